// Proves browser.mjs: a throwaway CA, server and client certificates (openssl), a Node https
// server that requires a client certificate and echoes its CN, and chromium opening it
//   1. with the client certificate from PEM, selected through the profile's content setting;
//   2. with the client certificate from PKCS#12, selected through the managed policy (root only);
//   3. without a client certificate: refused.
// Usage: node selftest.mjs [OUTPUT_DIR]   (screenshots go there; default: a temporary directory)
// Prints '3 passed, 0 failed' (or fewer passed) and exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { MANAGED_POLICY_DIR, launchBrowser } from './browser.mjs';

const started = Date.now();
const outDir = path.resolve(process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'frontdoor-browser-out-')));
fs.mkdirSync(outDir, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'frontdoor-browser-selftest-'));
const f = (name) => path.join(work, name);
const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const CLIENT_CN = 'Dr Ada Selftest';

function makeCerts() {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=frontdoor selftest CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (name, cn, ext) => {
    openssl('req', '-new', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    fs.writeFileSync(f(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
      '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  leaf('server', '127.0.0.1',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  leaf('client', CLIENT_CN,
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  openssl('pkcs12', '-export', '-in', f('client.pem'), '-inkey', f('client.key'), '-out', f('client.p12'),
    '-passout', 'pass:p12-secret');
}

function startServer() {
  const server = https.createServer({
    key: fs.readFileSync(f('server.key')),
    cert: fs.readFileSync(f('server.pem')),
    ca: fs.readFileSync(f('ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    server.served += 1;
    const cn = req.socket.getPeerCertificate()?.subject?.CN ?? '(none)';
    const esc = cn.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>mTLS selftest</title><h1>Client certificate</h1><p id="cn">CN=${esc}</p>`);
  });
  server.served = 0;
  server.refused = 0;
  server.on('tlsClientError', (e) => {
    // ECONNRESET: chromium dropping a spare (preconnected) socket, harmless.
    if (/certificate/i.test(`${e.code} ${e.message}`)) server.refused += 1;
    else if (e.code !== 'ECONNRESET') console.log(`     (server: ${e.code ?? ''} ${e.message})`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}

async function expectCN(browser, url, shot) {
  const page = await browser.newPage();
  const resp = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  if (resp?.status() !== 200) throw new Error(`status ${resp?.status()}`);
  const text = await page.$eval('#cn', (e) => e.textContent);
  await page.screenshot({ path: path.join(outDir, shot) });
  if (text !== `CN=${CLIENT_CN}`) throw new Error(`page says ${JSON.stringify(text)}`);
}

makeCerts();
const server = await startServer();
const url = `https://127.0.0.1:${server.address().port}/`;
try {
  await check('client certificate (PEM) selected via the profile content setting', async () => {
    const browser = await launchBrowser({
      clientCert: { certPem: fs.readFileSync(f('client.pem'), 'utf8'), keyPem: fs.readFileSync(f('client.key'), 'utf8') },
      caCertPath: f('ca.pem'),
      autoSelectFor: url,
    });
    try {
      await expectCN(browser, url, 'with-client-cert.png');
    } finally {
      await browser.close();
    }
    if (fs.existsSync(browser.frontdoor.profileDir)) throw new Error('temporary profile left behind');
  });

  let canWritePolicy = true;
  try {
    fs.mkdirSync(MANAGED_POLICY_DIR, { recursive: true });
    fs.accessSync(MANAGED_POLICY_DIR, fs.constants.W_OK);
  } catch {
    canWritePolicy = false;
  }
  if (canWritePolicy) {
    await check('client certificate (PKCS#12) selected via the managed policy', async () => {
      const browser = await launchBrowser({
        clientCert: { p12Path: f('client.p12'), p12Password: 'p12-secret' },
        caCertPath: f('ca.pem'),
        autoSelectFor: url,
        certFilter: { ISSUER: { CN: 'frontdoor selftest CA' } },
        autoSelectVia: 'managed',
      });
      const { policyFile } = browser.frontdoor;
      try {
        await expectCN(browser, url, 'with-client-cert-policy.png');
      } finally {
        await browser.close();
      }
      if (fs.existsSync(policyFile)) throw new Error(`policy file left behind: ${policyFile}`);
    });
  } else {
    console.log(`skip managed policy: ${MANAGED_POLICY_DIR} not writable (needs root)`);
  }

  await check('no client certificate: refused', async () => {
    const browser = await launchBrowser({ caCertPath: f('ca.pem') });
    const served = server.served;
    const refused = server.refused;
    try {
      const page = await browser.newPage();
      let error = null;
      try {
        await page.goto(url, { waitUntil: 'load', timeout: 15000 });
      } catch (e) {
        error = e;
      }
      if (!error) throw new Error('page loaded without a client certificate');
      if (!/net::ERR_/.test(error.message)) throw new Error(`unexpected error: ${error.message}`);
      console.log(`     (chromium: ${error.message.split(' at ')[0]})`);
      // The server's side: it refused the handshake for want of a client certificate (not, say,
      // chromium refusing the server certificate).
      for (let i = 0; i < 20 && server.refused === refused; i++) await new Promise((r) => setTimeout(r, 50));
      if (server.refused === refused) throw new Error('the server saw no handshake without a client certificate');
      // Chromium swaps in its error page in another process just after goto() fails: retry briefly.
      for (let i = 0; ; i++) {
        try {
          await page.screenshot({ path: path.join(outDir, 'without-client-cert.png') });
          break;
        } catch (e) {
          if (i >= 20) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await browser.close();
    }
    if (server.served !== served) throw new Error('the server answered a request');
  });
} finally {
  server.close();
  fs.rmSync(work, { recursive: true, force: true });
}

const passed = results.filter(Boolean).length;
console.log(`screenshots in ${outDir}; ${Date.now() - started} ms`);
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length && passed > 0 ? 0 : 1);
