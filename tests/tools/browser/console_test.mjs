// The web console (gateway/console/) in Debian's chromium, headless, as IG officers and operators
// use it (issue 21): the real gateway, CLI and connector simulator as child processes on loopback,
// a throwaway CA and certificates made with openssl, a real SQLite store in a temporary directory.
//
//   Gateway A, mutual TLS everywhere: the browser presents a client certificate (CN = who), the
//   CLI submits referrals and queries the audit log, a connector simulator takes deliveries; one
//   connector endpoint has nowhere to go until a second simulator starts, so its delivery is
//   dead-lettered (a short dead-letter limit) and replayed from the console. A commissioner reads
//   the outcome figures (/reports) of enough referrals to one team for them not to be suppressed.
//   Gateway B, --insecure-plaintext: the development sign-in page.
//
// Every page the tests open is saved as a screenshot in OUTPUT_DIR; the processes' logs go to
// OUTPUT_DIR/logs. Every process started is stopped, whatever happens.
//
//   node console_test.mjs --gateway BIN --cli BIN --connector-sim BIN --source-dir DIR --output-dir DIR
//
// (registered in ctest by tests/e2e/CMakeLists.txt; needs chromium, libnss3-tools and `npm ci` here:
// scripts/install-deps).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseArgs } from 'node:util';
import { launchBrowser } from './browser.mjs';

const { values: args } = parseArgs({
  options: {
    gateway: { type: 'string' },
    cli: { type: 'string' },
    'connector-sim': { type: 'string' },
    'source-dir': { type: 'string' },
    'output-dir': { type: 'string' },
  },
});
const here = path.dirname(new URL(import.meta.url).pathname);
const SOURCE = path.resolve(args['source-dir'] ?? path.join(here, '../../..'));
const BUILD = path.join(SOURCE, 'build/release');
const GATEWAY = args.gateway ?? path.join(BUILD, 'gateway/frontdoor-gateway');
const CLI = args.cli ?? path.join(BUILD, 'tools/frontdoor');
const CONNECTOR_SIM = args['connector-sim'] ?? path.join(BUILD, 'tools/frontdoor-connector-sim');
const OUT = path.resolve(args['output-dir'] ?? path.join(BUILD, 'test-output/console'));
const SAMPLES = path.join(SOURCE, 'tests/data/samples');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'expected.json'), 'utf8'));

// The referrals submitted, and the NHS numbers they are about (the ones searched for in the browser).
const WELLBEING = '01-fhir-oldham-wellbeing.json'; // accepted, to action-together-oldham
const MENTAL_HEALTH = '03-fhir-oldham-mental-health.json'; // accepted, to mind-oldham: dead-lettered
const NO_CONSENT = '08-fhir-ig1-no-consent.json'; // refused: IG-1
const NHS = { [WELLBEING]: '9991951024', [MENTAL_HEALTH]: '9991451110', [NO_CONSENT]: '9991414894' };
const SEARCHED = Object.values(NHS);
const DOWN_ENDPOINT = 'mind-oldham';
const UP_ENDPOINTS = ['action-together-oldham', 'ageuk-oldham', 'action-together-tameside'];
const IG_OFFICER = 'ig-officer-oldham';
const OPERATOR = 'frontdoor-operator';
const PRACTICE = 'P85901'; // a GP practice: known to the network, no console role
const COMMISSIONER = 'commissioner-oldham-tameside'; // gateway A's commissioners (outcome figures)
// Referrals enough for the figures to show (counts 1 to 7 are suppressed): variants of
// examples/typed-referral.json (Royton, wellbeing: team oldham-north-royton-wellbeing, as WELLBEING's).
const FIGURES_TEAM = 'oldham-north-royton-wellbeing';
const FIGURES_REFERRALS = 10;

// NHS numbers 999 3000 00n with a valid check digit (modulus 11), `count` of them.
function nhsNumbers(count) {
  const numbers = [];
  for (let n = 0; numbers.length < count; n++) {
    const nine = `999300${String(n).padStart(3, '0')}`;
    const sum = [...nine].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) numbers.push(`${nine}${check}`);
  }
  return numbers;
}
const FIGURES_NHS = nhsNumbers(FIGURES_REFERRALS);

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(path.join(OUT, 'logs'), { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'frontdoor-console-test-'));
const CERTS = path.join(work, 'certs'); // as scripts/dev-certs lays them out, for the CLI's --cert-dir
const cert = (name) => path.join(CERTS, name);

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set();
const browsers = [];
// A last resort (after() stops them gracefully): on exit, and when the run itself is stopped
// (ctest's timeout, Ctrl-C); puppeteer closes its chromium on these too.
process.on('exit', () => {
  for (const b of browsers) b.process()?.kill('SIGKILL');
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(1));

// Starts a process with its stdout and stderr in OUT/logs/NAME.log; `ready` watches its stderr.
function start(name, bin, argv, { ready } = {}) {
  const log = fs.createWriteStream(path.join(OUT, 'logs', `${name}.log`));
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (e) => {  // not started at all
      log.write(`${bin}: ${e.message}\n`);
      children.delete(child);
      resolve({ code: e.code, signal: null });
    });
  });
  child.stdout.pipe(log, { end: false });
  let text = '';
  child.stderr.on('data', (chunk) => {
    log.write(chunk);
    text += chunk;
  });
  child.started = new Promise((resolve, reject) => {
    if (!ready) return resolve();
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 20 s; see ${name}.log`)), 20000);
    const check = () => {
      const found = ready(text);
      if (found) {
        clearTimeout(timer);
        child.stderr.off('data', check);
        resolve(found);
      }
    };
    child.stderr.on('data', check);
    child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready; see ${name}.log`));
    });
  });
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
  await child.exited;
  clearTimeout(timer);
}

// The gateway's "listening" log line, with every address it serves.
const listening = (text) => {
  for (const line of text.split('\n')) {
    if (!line.includes('"event":"listening"')) continue;
    try {
      return JSON.parse(line);
    } catch {
      // not a whole line yet
    }
  }
  return null;
};

async function until(what, fn, { timeout = 20000, every = 150 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

function run(bin, argv, { allow = [0] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // 'close', not 'exit': the process may exit before its stdout is read to the end.
    child.on('close', (code) => {
      if (allow.includes(code)) resolve({ code, stdout, stderr });
      else reject(new Error(`${path.basename(bin)} ${argv.join(' ')}: exit ${code}\n${stderr}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Certificates (openssl), as tests/tools/browser/selftest.mjs makes them

function makeCertificates(clientNames) {
  fs.mkdirSync(CERTS, { recursive: true });
  const openssl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', cert('ca.key'), '-out', cert('ca.crt'), '-days', '2',
    '-subj', '/CN=frontdoor console test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (stem, cn, ext) => {
    openssl('req', '-new', ...ec, '-keyout', cert(`${stem}.key`), '-out', cert(`${stem}.csr`), '-subj', `/CN=${cn}`);
    fs.writeFileSync(cert(`${stem}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n${ext}`);
    openssl('x509', '-req', '-in', cert(`${stem}.csr`), '-CA', cert('ca.crt'), '-CAkey', cert('ca.key'),
      '-CAcreateserial', '-days', '2', '-extfile', cert(`${stem}.ext`), '-out', cert(`${stem}.crt`));
  };
  // The gateway's and the connector simulators' server certificate.
  leaf('server', '127.0.0.1', 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  leaf('gateway-client', 'frontdoor-gateway', 'extendedKeyUsage=clientAuth\n');
  for (const cn of clientNames) leaf(cn, cn, 'extendedKeyUsage=clientAuth\n');
}

// ---------------------------------------------------------------------------------------------
// The world: gateway A (mutual TLS) with its connector simulator, gateway B (plaintext)

const world = {};

async function startConnectorSim(name, serve, record) {
  const ready = path.join(work, `${name}.ready`);
  const sim = start(name, CONNECTOR_SIM, [
    ...serve.flatMap((s) => ['--serve', s]), '--record', record, '--ready-file', ready,
    '--tls-cert', cert('server.crt'), '--tls-key', cert('server.key'), '--client-ca', cert('ca.crt'),
  ]);
  const lines = await until(`${name}'s ready file`, async () => {
    if (sim.exitCode !== null) throw new Error(`${name} exited ${sim.exitCode}; see ${name}.log`);
    return fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim();
  });
  return { sim, addresses: Object.fromEntries(lines.split('\n').map((l) => l.split('='))) };
}

function writeConfig(file, extra = '') {
  fs.writeFileSync(file, `network_dir: "${SOURCE}/config/demo/network"
ig_officers: "${IG_OFFICER}"
ig_officers: "ig-officer-tameside"
operators: "${OPERATOR}"
observability { shutdown_grace_seconds: 2 }
${extra}`);
}

async function startGatewayA() {
  world.deliveries = path.join(work, 'deliveries.jsonl');
  const up = await startConnectorSim('connector-sim', UP_ENDPOINTS.map((e) => `${e}=127.0.0.1:0`), world.deliveries);
  // Nothing listens here until the replay test starts a simulator for it.
  world.downPort = await freePort();
  const config = path.join(work, 'gateway-a.textproto');
  // A delivery failing for 8 s is a dead letter, and a replayed one has 8 s again: longer than
  // the gateway's channel takes to reconnect to a connector that came back (at most 5 s, +20%
  // jitter: GRPC_ARG_MAX_RECONNECT_BACKOFF_MS in gateway_server.cc). A checkpoint is signed every
  // second, so a record soon has one covering it.
  writeConfig(config, `delivery {
  initial_backoff_ms: 100 max_backoff_ms: 400 attempt_deadline_ms: 2000 batch_size: 8
  dead_letter_after_attempts: 0 dead_letter_after_ms: 8000 breaker_failure_threshold: 5 breaker_open_ms: 200
}
audit { checkpoint_every_records: 8 checkpoint_every_seconds: 1 }
commissioners: "${COMMISSIONER}"
`);
  world.dataA = path.join(work, 'data-a');
  const gateway = start('gateway-a', GATEWAY, [
    '--config', config, '--data-dir', world.dataA, '--listen', '127.0.0.1:0', '--console-listen', '127.0.0.1:0',
    '--tls-cert', cert('server.crt'), '--tls-key', cert('server.key'), '--client-ca', cert('ca.crt'),
    '--connector-ca', cert('ca.crt'), '--connector-client-cert', cert('gateway-client.crt'),
    '--connector-client-key', cert('gateway-client.key'),
    ...UP_ENDPOINTS.flatMap((e) => ['--connector', `${e}=${up.addresses[e]}`]),
    '--connector', `${DOWN_ENDPOINT}=127.0.0.1:${world.downPort}`,
  ], { ready: listening });
  const line = await gateway.started;
  world.grpcA = line.address;
  world.consoleA = `https://${line.console_address}`;
}

async function startGatewayB() {
  const config = path.join(work, 'gateway-b.textproto');
  writeConfig(config);
  const gateway = start('gateway-b', GATEWAY, [
    '--insecure-plaintext', '--config', config, '--data-dir', path.join(work, 'data-b'),
    '--listen', '127.0.0.1:0', '--console-listen', '127.0.0.1:0',
  ], { ready: listening });
  const line = await gateway.started;
  world.grpcB = line.address;
  world.consoleB = `http://${line.console_address}`;
}

// The CLI against gateway A as `identity` (its certificate from CERTS), or B in plaintext.
const cliA = (identity, argv, opts) =>
  run(CLI, ['--target', world.grpcA, '--cert-dir', CERTS, '--as', identity, ...argv], opts);
const cliB = (identity, argv, opts) =>
  run(CLI, ['--target', world.grpcB, '--insecure-plaintext', '--as', identity, ...argv], opts);

// The index of the audit record of the decision on a sample's referral (gateway A), from the CLI.
async function decisionIndex(sample) {
  const { stdout } = await cliA(IG_OFFICER, ['audit', 'query', '--nhs-number', NHS[sample], '--action', 'decide', '--format', 'csv']);
  const { rows } = parseCsv(stdout);
  assert.equal(rows.length, 1, `decisions about ${NHS[sample]}`);
  return Number(rows[0].index);
}

// The FIGURES_REFERRALS typed referrals, one per NHS number, accepted (P85901 to action-together-oldham).
async function submitFiguresReferrals() {
  const example = JSON.parse(fs.readFileSync(path.join(SOURCE, 'examples/typed-referral.json'), 'utf8'));
  await Promise.all(FIGURES_NHS.map(async (nhs, i) => {
    const file = path.join(work, `figures-${i}.json`);
    const referral = structuredClone(example);
    referral.message_id = `console-test-figures-${i}`;
    referral.person.nhs_number = nhs;
    fs.writeFileSync(file, JSON.stringify(referral));
    const reply = JSON.parse((await cliA(example.sender_ods, ['submit', file])).stdout);
    assert.equal(reply.disposition, 'ACCEPTED', file);
    assert.equal(reply.connector_id, FIGURES_TEAM, file);
  }));
}

async function submit(cli, sample) {
  const expected = EXPECTED[sample];
  const code = { ACCEPTED: 0, REFUSED: 7 }[expected.disposition];
  const { stdout } = await cli(expected.sender, ['submit', path.join(SAMPLES, sample)], { allow: [code] });
  const reply = JSON.parse(stdout);
  assert.equal(reply.disposition, expected.disposition, sample);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// The browser: what it requested and received, on every page

const seen = { requests: [], posts: [], responses: [], consoleErrors: [] };
let shots = 0;

async function browserFor(identity, origin) {
  const opts = { caCertPath: cert('ca.crt') };
  if (identity) {
    Object.assign(opts, {
      clientCert: { certPath: cert(`${identity}.crt`), keyPath: cert(`${identity}.key`) },
      autoSelectFor: origin,
    });
  }
  const browser = await launchBrowser(opts);
  browsers.push(browser);
  return browser;
}

async function newPage(browser) {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.setViewport({ width: 1280, height: 900 });
  page.on('request', (r) => {
    seen.requests.push(r.url());
    if (r.method() === 'POST') seen.posts.push({ url: r.url(), origin: r.headers().origin });
  });
  page.on('response', (r) => {
    seen.responses.push({ url: r.url(), status: r.status(), headers: r.headers(), type: r.request().resourceType() });
  });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

async function screenshot(page, name) {
  shots += 1;
  await page.screenshot({ path: path.join(OUT, `${String(shots).padStart(2, '0')}-${name}.png`), fullPage: true });
}

const text = (page, selector = 'body') => page.$eval(selector, (e) => e.innerText);

// Clicks (or presses a key) and waits for the page that follows.
async function navigate(page, action) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  await formAccepted(page);
  return response;
}

// The console's answer to a form it takes for a cross-site one, said as what it is.
async function formAccepted(page) {
  if (!(await page.title()).startsWith('That form cannot be accepted')) return;
  const post = seen.posts.at(-1);
  throw new Error(`the console refused its own form as cross-site: the browser sent POST ${post?.url} with ` +
    `Origin: ${post?.origin} (chromium sends "null" when the page's Referrer-Policy is no-referrer)`);
}

// Presses Tab until the focused element matches `predicate` (run in the page); at most 60 times.
async function tabTo(page, what, predicate) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

// The rows of the tables under `selector`, each an array of its cells' text.
const tableRows = (page, selector = 'main') =>
  page.$$eval(`${selector} table tbody tr`, (rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));

// The page's <dl class="record"> entries: {term: {text, codes}}.
const definitions = (page) =>
  page.$$eval('dl.record dt', (dts) => Object.fromEntries(dts.map((dt) => {
    const dd = dt.nextElementSibling;
    return [dt.innerText.trim(), { text: dd.innerText.trim(), codes: [...dd.querySelectorAll('code')].map((c) => c.innerText.trim()) }];
  })));

// Fills the audit search form (by the fields' labels' ids) and presses one of its buttons.
async function searchForm(page, filters, button = 'Search') {
  for (const [field, value] of Object.entries(filters)) {
    if (field === 'action' || field === 'outcome' || field === 'rule_id') await page.select(`#${field}`, value);
    else await page.type(`#${field}`, value);
  }
  const [handle] = await page.$$(`xpath/.//form[@action="/audit/search"]//button[normalize-space()="${button}"]`);
  assert.ok(handle, `no "${button}" button`);
  return handle;
}

// CSV text to rows (RFC 4180, as audit/audit_csv.cc writes it).
function parseCsv(csv) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') field += csv[++i];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  const [header, ...body] = rows;
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))), lines: csv.trim().split('\n') };
}

// RFC 9162 2.1.3.2: the root from a leaf hash and its audit path.
function rootFromInclusionProof(leafIndex, treeSize, leafHashHex, pathHex) {
  const node = (l, r) => crypto.createHash('sha256').update(Buffer.concat([Buffer.from([1]), l, r])).digest();
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize) - 1n;
  let r = Buffer.from(leafHashHex, 'hex');
  for (const hex of pathHex) {
    const p = Buffer.from(hex, 'hex');
    assert.notEqual(sn, 0n, 'the audit path is longer than the tree allows');
    if ((fn & 1n) === 1n || fn === sn) {
      r = node(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = node(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  assert.equal(sn, 0n, 'the audit path is shorter than the tree needs');
  return r.toString('hex');
}

// Downloads what clicking `handle` sends to the browser, as the browser saved it.
async function download(browser, page, handle) {
  const dir = fs.mkdtempSync(path.join(work, 'download-'));
  const session = await browser.target().createCDPSession();
  await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir, eventsEnabled: true });
  const done = new Promise((resolve, reject) => {
    session.on('Browser.downloadProgress', (e) => {
      if (e.state === 'completed') resolve();
      if (e.state === 'canceled') reject(new Error('the download was cancelled'));
    });
  });
  // A download leaves the page where it is; an answer that is not one (a problem page) replaces it.
  let settled = false;
  const navigated = page.waitForNavigation({ waitUntil: 'load', timeout: 15000 }).then(async () => {
    if (settled) return;
    await formAccepted(page);
    throw new Error(`a page instead of a download: ${await page.title()}`);
  }, () => {
    if (!settled) throw new Error('no download in 15 s');
  });
  await handle.click();
  try {
    await Promise.race([done, navigated]);
  } finally {
    settled = true;
    await session.detach();
  }
  const files = fs.readdirSync(dir);
  assert.equal(files.length, 1, `downloaded: ${files}`);
  return { name: files[0], text: fs.readFileSync(path.join(dir, files[0]), 'utf8') };
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  const senders = [WELLBEING, MENTAL_HEALTH, NO_CONSENT].map((s) => EXPECTED[s].sender);
  makeCertificates([...new Set([IG_OFFICER, OPERATOR, PRACTICE, COMMISSIONER, ...senders])]);
  await Promise.all([startGatewayA(), startGatewayB()]);
  world.referrals = {};
  for (const sample of [WELLBEING, MENTAL_HEALTH, NO_CONSENT]) world.referrals[sample] = await submit(cliA, sample);
  await submit(cliB, WELLBEING);
  await submitFiguresReferrals();
});

after(async () => {
  await Promise.allSettled(browsers.map((b) => b.close()));
  await Promise.allSettled([...children].map(stop));
  fs.rmSync(work, { recursive: true, force: true });
});

test('a browser without a client certificate cannot connect', async () => {
  const browser = await browserFor(null);
  const page = await newPage(browser);
  await assert.rejects(page.goto(`${world.consoleA}/`), /net::ERR_(BAD_SSL_CLIENT_AUTH_CERT|SOCKET_NOT_CONNECTED|CONNECTION_RESET|SSL_PROTOCOL_ERROR)/);
  await browser.close();
});

test("a certificate without a console role (a GP practice's) is refused with a page that says why", async () => {
  const browser = await browserFor(PRACTICE, world.consoleA);
  const page = await newPage(browser);
  for (const route of ['/', '/audit', '/deliveries', '/reports', '/reports.csv']) {
    const response = await page.goto(`${world.consoleA}${route}`);
    assert.equal(response.status(), 403, route);
    const body = await text(page);
    assert.match(await page.title(), /Not for this certificate/);
    assert.match(body, /Your certificate names P85901, a .*The console is for IG officers, operators and commissioners only\./s);
    assert.match(body, /ask the gateway's administrator to add your identity to ig_officers, operators or commissioners/);
    assert.doesNotMatch(body, /Audit log|Deliveries|Signed in as/);
  }
  await screenshot(page, 'refused-practice-certificate');
});

test('an IG officer signs in with a client certificate and is offered the audit log and outcome figures, not deliveries', async () => {
  world.igBrowser = await browserFor(IG_OFFICER, world.consoleA);
  const page = (world.igPage = await newPage(world.igBrowser));
  const response = await page.goto(`${world.consoleA}/`);
  assert.equal(response.status(), 200);
  assert.match(await text(page, 'header'), /Signed in as ig-officer-oldham \(IG officer\)/);
  const nav = await page.$$eval('nav a', (as) => as.map((a) => a.textContent));
  assert.deepEqual(nav, ['Audit log', 'Outcome figures']);  // IG officers answer for the figures too
  assert.equal(await page.$('form[action="/sign-out"]'), null, 'a sign-out button over TLS');
  await screenshot(page, 'home-ig-officer');
  // Operators' pages are not for an IG officer.
  const refused = await page.goto(`${world.consoleA}/deliveries`);
  assert.equal(refused.status(), 403);
  assert.match(await text(page), /Only operators manage deliveries\./);
});

test('search by NHS number shows the referral’s records in plain language', async () => {
  const page = world.igPage;
  await page.goto(`${world.consoleA}/audit`);
  await screenshot(page, 'audit-search-form');
  const nhs = NHS[WELLBEING];
  const response = await navigate(page, async () => (await searchForm(page, { nhs_number: nhs })).click());
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/audit/search');
  const rows = await tableRows(page);
  assert.ok(rows.length >= 2, `rows: ${JSON.stringify(rows)}`);
  for (const row of rows) assert.equal(row[3], nhs, 'a record about someone else');
  const decision = rows.find((r) => r[4].startsWith('referral accepted'));
  assert.ok(decision, `no decision among ${JSON.stringify(rows)}`);
  assert.match(decision[4], /^referral accepted to action-together-oldham \(IG-4, IG-9\)$/);
  assert.equal(decision[7], 'action-together-oldham');
  assert.equal(decision[8], 'permit');
  assert.match(decision[2], /^P85901/);
  assert.ok(rows.some((r) => r[4].startsWith('information withheld')), 'no withheld record');
  await until('the delivery record', async () => {
    const again = await navigate(page, async () => (await searchForm(page, {})).click());
    assert.equal(again.status(), 200);
    return (await tableRows(page)).some((r) => r[4].startsWith('referral delivered to action-together-oldham'));
  });
  assert.equal(await page.$eval('#nhs_number', (e) => e.value), nhs, 'the search form keeps its filter');
  await screenshot(page, 'audit-search-results');

  // The refused referral, found by its rule, says why in words.
  await page.goto(`${world.consoleA}/audit`);
  await navigate(page, async () => (await searchForm(page, { nhs_number: NHS[NO_CONSENT], rule_id: 'IG-1' })).click());
  const refused = (await tableRows(page)).find((r) => r[3] === NHS[NO_CONSENT] && r[8] === 'refuse');
  assert.ok(refused, 'no refusal found by rule IG-1');
  assert.equal(refused[4], 'referral refused: no consent in force (IG-1)');
  await screenshot(page, 'audit-search-refused');

  // Nobody's records: the empty state.
  await page.goto(`${world.consoleA}/audit`);
  await navigate(page, async () => (await searchForm(page, { nhs_number: '9434765919', action: 'decide' })).click());
  assert.match(await text(page, '#results-heading'), /No records match/);
  assert.match(await text(page), /No records match\./);
  await screenshot(page, 'audit-search-empty');

  // Not an NHS number: said so, nothing searched.
  await page.goto(`${world.consoleA}/audit`);
  const bad = await navigate(page, async () => (await searchForm(page, { nhs_number: '9991951025' })).click());
  assert.equal(bad.status(), 400);
  assert.match(await text(page, '[role=alert]'), /That NHS number is not valid/);
});

test('a record’s page shows its inclusion proof and the signed checkpoint covering it', async () => {
  const page = world.igPage;
  await page.goto(`${world.consoleA}/audit`);
  await navigate(page, async () => (await searchForm(page, { nhs_number: NHS[WELLBEING], action: 'decide' })).click());
  const index = await decisionIndex(WELLBEING);
  const link = await page.$(`tbody a[href="/audit/records/${index}"]`);
  assert.ok(link, 'no link to the record');
  // A checkpoint is signed within a second of the record: until then the page says it cannot prove it.
  let response = await navigate(page, () => link.click());
  await until('a checkpoint covering the record', async () => {
    if (response.status() === 200) return true;
    response = await page.reload();
    return false;
  }, { timeout: 10000, every: 300 });
  assert.equal(new URL(page.url()).pathname, `/audit/records/${index}`);
  assert.equal(await page.title(), `Audit record ${index} – frontdoor console`);
  const d = await definitions(page);
  assert.equal(d['About (NHS number)'].text, NHS[WELLBEING]);
  assert.equal(d.Referral.text, world.referrals[WELLBEING].referral_id);
  assert.equal(d['To (receiving organisation)'].text, 'action-together-oldham');
  assert.equal(d['Action and outcome'].text, 'decide, permit');
  const leafHash = d['Leaf hash'].text;
  assert.match(leafHash, /^[0-9a-f]{64}$/);
  const auditPath = d['Audit path'].codes;
  for (const h of auditPath) assert.match(h, /^[0-9a-f]{64}$/);
  const treeSize = Number(d['Records covered'].text);
  assert.match(await text(page), new RegExp(`Record ${index} is leaf ${index} of the log's Merkle tree of ${treeSize} records`));
  assert.ok(treeSize > index);
  assert.match(d['Signature (Ed25519)'].text.replace(/\s/g, ''), /^[A-Za-z0-9+/]{86}==$/, 'an Ed25519 signature in base64');
  assert.match(d['Signed at'].text, /^\d{4}-\d\d-\d\dT/);
  // The proof is a real one: the leaf and its path give the checkpoint's root hash.
  assert.equal(rootFromInclusionProof(index, treeSize, leafHash, auditPath), d['Root hash'].text);
  // The same leaf as the CLI proves.
  const { stdout } = await cliA(IG_OFFICER, ['audit', 'prove', String(index)]);
  assert.ok(stdout.includes(leafHash), 'the CLI proves another leaf hash');
  await screenshot(page, 'audit-record-proof');
});

test('"Verify the log" verifies the untouched log', async () => {
  const page = world.igPage;
  await page.goto(`${world.consoleA}/audit`);
  const [button] = await page.$$('xpath/.//button[normalize-space()="Verify the log"]');
  const response = await navigate(page, () => button.click());
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), 'The audit log verifies – frontdoor console');
  assert.match(await text(page, '[role=status]'), /The log verifies\. All \d+ records match the signed checkpoints\./);
  await screenshot(page, 'audit-verified');
  const cli = await cliA(IG_OFFICER, ['audit', 'verify'], { allow: [0] });
  assert.match(cli.stdout, /"verified": true/);
});

test('"Export as CSV" gives what `frontdoor audit query --format csv` gives for the same filter', async () => {
  const page = world.igPage;
  const nhs = NHS[WELLBEING];
  // The decisions about one person: access records (the searches themselves, IG-9) are action
  // "query", so this filter is the same set of records in both, whatever was searched meanwhile.
  await page.goto(`${world.consoleA}/audit`);
  const decisions = await download(world.igBrowser, page, await searchForm(page, { nhs_number: nhs, action: 'decide' }, 'Export as CSV'));
  assert.equal(decisions.name, 'frontdoor-audit.csv');
  const cli = await cliA(IG_OFFICER, ['audit', 'query', '--nhs-number', nhs, '--action', 'decide', '--format', 'csv']);
  assert.equal(decisions.text, cli.stdout);
  const parsed = parseCsv(decisions.text);
  assert.equal(parsed.rows.length, 1);
  assert.equal(parsed.rows[0].index, String(await decisionIndex(WELLBEING)));
  assert.equal(parsed.rows[0].nhs_number, nhs);

  // Everything about the person: the CLI's query is recorded before it reads, so its rows are the
  // export's up to and including its own access record; the export adds only the access records
  // made since (its own among them), every one by the IG officer, about this person, action query.
  const all = parseCsv((await cliA(IG_OFFICER, ['audit', 'query', '--nhs-number', nhs, '--format', 'csv'])).stdout);
  await page.goto(`${world.consoleA}/audit`);
  const exported = parseCsv((await download(world.igBrowser, page, await searchForm(page, { nhs_number: nhs }, 'Export as CSV'))).text);
  assert.deepEqual(exported.header, all.header);
  assert.deepEqual(exported.lines.slice(0, all.lines.length), all.lines);
  const later = exported.rows.slice(all.rows.length);
  assert.ok(later.length >= 1, 'the export is not recorded');
  for (const r of later) {
    assert.deepEqual([r.action, r.outcome, r.actor, r.nhs_number, r.rule_ids], ['query', 'query', IG_OFFICER, nhs, 'IG-8;IG-9'], JSON.stringify(r));
  }
  assert.ok(all.rows.some((r) => r.action === 'deliver'), 'the delivery is not in the log');
});

// The page's `dl.headline` figures: {label: value}.
const headline = (page) =>
  page.$$eval('dl.headline > div', (ds) => Object.fromEntries(ds.map((d) => [d.querySelector('dt').innerText.trim(), d.querySelector('dd').innerText.trim()])));

// What the browser was given, as HTML and as the text shown, without any of the seeded NHS numbers.
async function assertNoNhsNumber(page, what) {
  const shown = [await page.content(), await text(page)].join('\n').replace(/\s/g, '');
  for (const nhs of [...SEARCHED, ...FIGURES_NHS]) assert.ok(!shown.includes(nhs), `${nhs} in ${what}`);
}

test('a commissioner sees the outcome figures, breaks them down by team and month, and downloads the CLI’s CSV', async () => {
  const browser = await browserFor(COMMISSIONER, world.consoleA);
  const page = await newPage(browser);
  const home = await page.goto(`${world.consoleA}/`);
  assert.equal(home.status(), 200);
  assert.match(await text(page, 'header'), /Signed in as commissioner-oldham-tameside \(commissioner\)/);
  assert.deepEqual(await page.$$eval('nav a', (as) => as.map((a) => a.textContent)), ['Outcome figures']);
  await navigate(page, async () => (await page.$('nav a[href="/reports"]')).click());
  assert.equal(new URL(page.url()).pathname, '/reports');
  assert.equal(await page.title(), 'Outcome figures – frontdoor console');

  // The default: twelve weeks to today, totals. Every referral of this run was received today.
  const received = 3 + FIGURES_REFERRALS; // WELLBEING, MENTAL_HEALTH, NO_CONSENT and the typed ones
  const figures = await headline(page);
  assert.equal(figures['Referrals received'], String(received), JSON.stringify(figures));
  assert.equal(await page.$eval('#by', (e) => e.value), 'none');
  assert.equal(await page.$eval('#period', (e) => e.value), 'week');
  assert.equal(await text(page, '#chart-heading'), 'Referrals received each week');
  assert.match(await text(page, 'main table caption'), /^Referrals received each week$/);
  const weeks = await tableRows(page, 'section[aria-labelledby=chart-heading]');
  assert.equal(weeks.length, 12, JSON.stringify(weeks));
  assert.deepEqual(weeks.at(-1).slice(1, 3), [await page.$eval('#to', (e) => e.value), String(received)]);
  assert.ok(weeks.slice(0, -1).every((w) => w[2] === '0'), JSON.stringify(weeks));
  assert.equal(await page.$$eval('svg.chart rect', (rs) => rs.filter((r) => Number(r.getAttribute('height')) > 0).length), 1,
    'one bar: this week');
  const totalsOnly = await tableRows(page, 'section[aria-labelledby=funnel-heading]');
  assert.deepEqual(totalsOnly.map((r) => r[0]), ['total']);
  assert.equal(totalsOnly[0][1], String(received));
  await assertNoNhsNumber(page, 'the report page');
  await screenshot(page, 'reports-commissioner');

  // Broken down by connector team (a select and a click), then each month (the keyboard alone).
  await page.select('#by', 'team');
  const [show] = await page.$$('xpath/.//form[@action="/reports"]//button[normalize-space()="Show"]');
  assert.ok(show, 'no "Show" button');
  const byTeam = await navigate(page, () => show.click());
  assert.equal(byTeam.status(), 200);
  assert.equal(new URL(page.url()).searchParams.get('by'), 'team');
  assert.match(await text(page, 'section[aria-labelledby=funnel-heading] caption'), /^The casework funnel by connector team, whole range/);
  const teams = await tableRows(page, 'section[aria-labelledby=funnel-heading]');
  const team = teams.find((r) => r[0] === FIGURES_TEAM);
  assert.ok(team, `no row for ${FIGURES_TEAM}: ${JSON.stringify(teams)}`);
  // What the page shows must not pin what it hides: zeros are shown, so each '*' is at least 1,
  // and hidden cells adding up to exactly their number would all be 1 (here the other two teams'
  // referrals, 1 each, under a shown total: the team's own count is hidden with them).
  const total = teams.find((r) => r[0] === 'total');
  for (const column of [1, 2]) {
    const cells = teams.filter((r) => r[0] !== 'total').map((r) => r[column]);
    const hidden = cells.filter((c) => c === '*').length;
    const shown = cells.filter((c) => c !== '*').reduce((sum, c) => sum + Number(c), 0);
    if (total[column] !== '*' && hidden > 0) {
      assert.notEqual(Number(total[column]) - shown, hidden, `column ${column} pins its hidden cells: ${JSON.stringify(teams)}`);
    }
  }
  assert.ok(/^(\*|\d+)$/.test(team[1]), `received: ${team[1]}`);
  assert.equal(teams.at(-1)[0], 'total');

  await page.focus('#period');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.$eval('#period', (e) => e.value), 'month');
  await tabTo(page, 'Show', `document.activeElement?.textContent === 'Show'`);
  await navigate(page, () => page.keyboard.press('Enter'));
  const query = new URL(page.url()).searchParams;
  assert.deepEqual([query.get('period'), query.get('by')], ['month', 'team']);
  assert.equal(await text(page, '#chart-heading'), 'Referrals received each month');
  assert.equal(await text(page, 'section[aria-labelledby=chart-heading] caption'), 'Referrals received each month');
  const months = await tableRows(page, 'section[aria-labelledby=chart-heading]');
  assert.ok(months.length >= 3 && months.length <= 4, JSON.stringify(months)); // twelve weeks
  assert.equal(months.at(-1)[2], String(received));
  assert.ok((await tableRows(page, 'section[aria-labelledby=funnel-heading]')).some((r) => r[0] === FIGURES_TEAM));
  await assertNoNhsNumber(page, 'the report page by team and month');
  await screenshot(page, 'reports-by-team-each-month');

  // "Download as CSV": the same choices, byte for byte what `frontdoor report --format csv` gives.
  const link = await page.$('a[download]');
  assert.ok(link, 'no "Download as CSV" link');
  assert.equal(await page.evaluate((a) => a.textContent, link), 'Download as CSV');
  const href = new URL(await page.evaluate((a) => a.href, link));
  assert.equal(href.pathname, '/reports.csv');
  const chosen = Object.fromEntries(href.searchParams);
  assert.deepEqual(chosen, { from: await page.$eval('#from', (e) => e.value), to: await page.$eval('#to', (e) => e.value), period: 'month', by: 'team' });
  const csv = await download(browser, page, link);
  assert.equal(csv.name, 'frontdoor-outcomes.csv');
  const cli = await cliA(COMMISSIONER, ['report', '--from', chosen.from, '--to', chosen.to, '--period', 'month', '--by', 'team', '--format', 'csv']);
  assert.equal(csv.text, cli.stdout);
  const rows = parseCsv(csv.text).rows;
  const teamRow = rows.find((r) => r.span === 'whole-range' && r.group === FIGURES_TEAM);
  assert.ok(teamRow, csv.text);
  assert.equal(teamRow.accepted, team[2], 'the CSV says what the page says');
  for (const nhs of [...SEARCHED, ...FIGURES_NHS]) assert.ok(!csv.text.includes(nhs), `${nhs} in the CSV`);

  // Nor are the audit log and the deliveries a commissioner's; an IG officer may read the figures.
  for (const route of ['/audit', '/deliveries']) assert.equal((await page.goto(`${world.consoleA}${route}`)).status(), 403, route);
  assert.equal((await world.igPage.goto(`${world.consoleA}/reports?by=category`)).status(), 200);
  assert.ok((await tableRows(world.igPage, 'section[aria-labelledby=funnel-heading]')).some((r) => r[0] === 'wellbeing'));
  await browser.close();
});

test('an operator sees the dead letter, replays it with the keyboard alone, and the connector receives it', async () => {
  const browser = await browserFor(OPERATOR, world.consoleA);
  const page = await newPage(browser);
  await page.goto(`${world.consoleA}/`);
  assert.match(await text(page, 'header'), /Signed in as frontdoor-operator \(operator\)/);
  assert.deepEqual(await page.$$eval('nav a', (as) => as.map((a) => a.textContent)), ['Deliveries']);
  await screenshot(page, 'home-operator');
  const referralId = world.referrals[MENTAL_HEALTH].referral_id;
  const deadRows = async () => {
    await page.goto(`${world.consoleA}/deliveries`);
    return (await tableRows(page, 'section[aria-labelledby=dead-heading]')).filter((r) => r[2] === referralId);
  };
  const [dead] = await until('the dead letter on the deliveries page', async () => {
    const rows = await deadRows();
    return rows.length > 0 && rows;
  });
  const [outboxId, kind, , endpoint, attempts, lastError] = dead;
  assert.equal(endpoint, DOWN_ENDPOINT);
  assert.ok(Number(attempts) >= 1, attempts);
  assert.match(lastError, /\S/, 'a dead letter without its reason');
  const endpoints = await tableRows(page, 'section[aria-labelledby=endpoints-heading]');
  const down = endpoints.find((r) => r[0] === DOWN_ENDPOINT);
  assert.ok(down, JSON.stringify(endpoints));
  assert.match(down[6], /^1\b/, 'dead letters of the endpoint');
  assert.match(down[6], /Replay all 1 for mind-oldham…/);
  console.log(`     dead letter ${outboxId} (${kind}): ${lastError}`);
  await screenshot(page, 'deliveries-dead-letter');

  // The connector comes back.
  await startConnectorSim('connector-sim-mind-oldham', [`${DOWN_ENDPOINT}=127.0.0.1:${world.downPort}`], world.deliveries);

  // Keyboard only from here: Tab to the dead letter's Replay…, Enter; Tab to Replay now, Enter.
  await tabTo(page, `Replay dead letter ${outboxId}`,
    `document.activeElement?.getAttribute('aria-label') === 'Replay dead letter ${outboxId}'`);
  await navigate(page, () => page.keyboard.press('Enter'));
  assert.equal(new URL(page.url()).pathname, '/deliveries/confirm');
  assert.match(await text(page, 'main'), new RegExp(`Dead letter ${outboxId} will be sent again\\.`));
  await screenshot(page, 'deliveries-replay-confirm');
  await tabTo(page, 'Replay now', `document.activeElement?.textContent === 'Replay now'`);
  await navigate(page, () => page.keyboard.press('Enter'));
  assert.equal(new URL(page.url()).pathname, '/deliveries');
  assert.match(await text(page, '[role=status]'), /1 delivery is pending again and on their way\./);
  await screenshot(page, 'deliveries-replayed');

  // The simulator has it.
  const received = await until('the delivery at the connector simulator', async () => {
    const lines = fs.existsSync(world.deliveries) ? fs.readFileSync(world.deliveries, 'utf8').trim().split('\n') : [];
    return lines.filter(Boolean).map((l) => JSON.parse(l)).find((d) => d.endpoint_id === DOWN_ENDPOINT && d.referral_id === referralId);
  });
  assert.equal(received.duplicate, false);
  await until('the dead letter gone from the page', async () => (await deadRows()).length === 0);
  const endpointsAfter = await tableRows(page, 'section[aria-labelledby=endpoints-heading]');
  assert.match(endpointsAfter.find((r) => r[0] === DOWN_ENDPOINT)[4], /ago/, 'no last success');
  await screenshot(page, 'deliveries-delivered');

  // The audit log is not an operator's.
  const refused = await page.goto(`${world.consoleA}/audit`);
  assert.equal(refused.status(), 403);
  assert.match(await text(page), /Only IG officers read the audit log \(IG-8\)\./);
  await screenshot(page, 'operator-refused-audit');
  // Nor are the outcome figures, as a page or as CSV.
  for (const route of ['/reports', '/reports.csv?by=team']) {
    const response = await page.goto(`${world.consoleA}${route}`);
    assert.equal(response.status(), 403, route);
    assert.match(await text(page), /Only commissioners and IG officers read outcome figures\./, route);
    assert.equal(await page.$('dl.headline'), null, route);
  }
  await screenshot(page, 'operator-refused-reports');
});

test('a record changed in the store makes "Verify the log" fail, naming it', async () => {
  // The refusal of the referral without consent, rewritten as a permit: in its body (a serialized
  // AuditRecord) the outcome field (11, a string: tag 0x5a, length 6) "refuse" becomes "permit",
  // as someone with the database file could; its leaf hash and search columns are left alone.
  const index = await decisionIndex(NO_CONSENT);
  const db = path.join(world.dataA, 'frontdoor.db');
  const sqlite = (sql) => execFileSync('sqlite3', ['-cmd', '.timeout 10000', db, sql], { encoding: 'utf8' }).trim();
  const body = Buffer.from(sqlite(`SELECT hex(record) FROM audit_log WHERE leaf_index = ${index}`), 'hex');
  const at = body.indexOf(Buffer.concat([Buffer.from([0x5a, 6]), Buffer.from('refuse')]));
  assert.ok(at >= 0, 'no outcome "refuse" in the record');
  body.write('permit', at + 2);
  sqlite(`UPDATE audit_log SET record = X'${body.toString('hex')}' WHERE leaf_index = ${index}`);

  const page = world.igPage;
  await page.goto(`${world.consoleA}/audit`);
  const [button] = await page.$$('xpath/.//button[normalize-space()="Verify the log"]');
  const response = await navigate(page, () => button.click());
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), 'The audit log does not verify – frontdoor console');
  const alert = await text(page, '[role=alert]');
  assert.match(alert, new RegExp(`Verification failed at record ${index}\\.`));
  assert.match(alert, new RegExp(`Records before ${index} verify; from ${index} to \\d+ they cannot be trusted`));
  await screenshot(page, 'audit-verification-failed');
  // The CLI's verification names the same record.
  const cli = JSON.parse((await cliA(IG_OFFICER, ['audit', 'verify'], { allow: [4] })).stdout);
  assert.equal(Number(cli.first_bad_index ?? 0), index);
  assert.ok(!cli.verified);
});

test('development mode: the marked sign-in page, and a search, with the keyboard alone', async () => {
  const browser = await browserFor(null);
  const page = await newPage(browser);
  const first = await page.goto(`${world.consoleB}/audit`);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  assert.equal(first.status(), 200);
  assert.equal(await page.title(), 'Sign in (development) – frontdoor console');
  assert.match(await text(page, '.development'), /Development mode\..*never use it with real patient data/s);
  const people = await page.$$eval('fieldset label', (ls) => ls.map((l) => l.textContent.trim()));
  assert.deepEqual(people, ['ig-officer-oldham (IG officer)', 'ig-officer-tameside (IG officer)', 'frontdoor-operator (operator)']);
  await screenshot(page, 'dev-sign-in');

  // Tab into the radio group, arrow to the IG officer, Space, Tab to "Sign in", Enter.
  await tabTo(page, 'the identities', `document.activeElement?.name === 'identity'`);
  for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement.value)) !== IG_OFFICER; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Space');
  assert.equal(await page.$eval(`#identity-${IG_OFFICER}`, (e) => e.checked), true);
  await tabTo(page, 'Sign in', `document.activeElement?.textContent === 'Sign in'`);
  await navigate(page, () => page.keyboard.press('Enter'));
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await text(page, 'header'), /Signed in as ig-officer-oldham \(IG officer\)/);
  assert.match(await text(page, '.development'), /Development mode/);
  await screenshot(page, 'dev-home');

  await tabTo(page, 'the Audit log link', `document.activeElement?.textContent === 'Audit log'`);
  await navigate(page, () => page.keyboard.press('Enter'));
  assert.equal(new URL(page.url()).pathname, '/audit');
  await tabTo(page, 'the NHS number field', `document.activeElement?.id === 'nhs_number'`);
  await page.keyboard.type(NHS[WELLBEING]);
  await navigate(page, () => page.keyboard.press('Enter'));
  assert.equal(new URL(page.url()).pathname, '/audit/search');
  const rows = await tableRows(page);
  assert.ok(rows.some((r) => r[3] === NHS[WELLBEING] && r[4].startsWith('referral accepted')), JSON.stringify(rows));
  await screenshot(page, 'dev-search-results');

  const [signOut] = await page.$$('xpath/.//button[normalize-space()="Sign out"]');
  await navigate(page, () => signOut.click());
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  assert.equal((await page.goto(`${world.consoleB}/`)).url(), `${world.consoleB}/sign-in`);
});

test('no URL the browser requested carries an NHS number searched for', () => {
  assert.ok(seen.requests.length > 20, `only ${seen.requests.length} requests seen`);
  for (const url of seen.requests) {
    const decoded = decodeURIComponent(url).replace(/[\s+]/g, '');
    for (const nhs of SEARCHED) assert.ok(!decoded.includes(nhs), `${nhs} in ${url}`);
  }
});

test('every response carried the security headers, and the pages needed nothing from elsewhere', () => {
  const consoles = [world.consoleA, world.consoleB];
  const pages = seen.responses.filter((r) => consoles.some((o) => r.url.startsWith(o)));
  assert.ok(pages.filter((r) => r.type === 'document').length > 20);
  assert.ok(pages.some((r) => r.type === 'stylesheet'), 'no stylesheet loaded');
  for (const r of pages) {
    const h = r.headers;
    const where = `${r.status} ${r.url}`;
    const csp = h['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/, where);
    assert.match(csp, /frame-ancestors 'none'/, where);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, where);
    assert.equal(h['x-content-type-options'], 'nosniff', where);
    assert.equal(h['cache-control'], 'no-store', where);
    assert.equal(h['x-frame-options'], 'DENY', where);
    if (r.url.startsWith('https:')) assert.match(h['strict-transport-security'] ?? '', /max-age=\d{6,}/, where);
    else assert.equal(h['strict-transport-security'], undefined, where);
  }
  const elsewhere = seen.requests.filter((u) => !consoles.some((o) => u.startsWith(o)) && !u.startsWith('chrome-error:') && !u.startsWith('data:'));
  assert.deepEqual(elsewhere, []);
  assert.deepEqual(seen.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e)), []);
});
