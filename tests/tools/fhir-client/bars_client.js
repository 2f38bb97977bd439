#!/usr/bin/env node
// An independent FHIR client for frontdoor's BaRS door (FHIR R4 REST), written the way a GP system
// integrator would: fhir-kit-client, not the gateway's own code. It POSTs each sample message Bundle to
// $process-message, checks the answer against tests/data/samples/expected.json, then reads back the first
// accepted referral (metadata, ServiceRequest/{id}, Task?focus=ServiceRequest/{id}).
//
//   node bars_client.js --base http://127.0.0.1:18443/FHIR/R4 [--client ODS] --expect EXPECTED_JSON SAMPLE...
//   node bars_client.js --base https://127.0.0.1:18443/FHIR/R4 --cert-dir DIR --ca CA.crt --expect ... SAMPLE...
//   node bars_client.js --base https://... --cert FILE --key FILE --ca CA.crt --expect ... SAMPLE...
//
// Identity: in plaintext the X-Frontdoor-Client header carries the sender's ODS code (or --client); over
// mutual TLS the client certificate does (DIR/<ODS>.crt and .key, or the one --cert/--key for every file).
// Prints one line per check ("ok ..." / "FAIL ..."); exits 0 only if every check passed.
//
// TLS note: fhir-kit-client 2.x sends with Node's built-in fetch (undici), which ignores an https.Agent
// passed in requestOptions. Its requestOptions are passed through to fetch, though, so client certificates
// go in an undici Agent given as `dispatcher` (undici pinned to the version bundled with Node 20).

import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'fhir-kit-client';
import { Agent } from 'undici';

const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const HTTP_ERROR_SYSTEM = 'https://fhir.nhs.uk/Codesystem/http-error-codes';
const ISSUE_CODE_SYSTEM = 'https://frontdoor.example.org/CodeSystem/issue-code';
const REFERRAL_ID_SYSTEM = 'https://frontdoor.example.org/Id/referral-id';
// The HTTP status each expected disposition gets; a resend of an earlier message gets 409 instead.
const STATUS_FOR = { ACCEPTED: 200, REJECTED: 400, REFUSED: 422 };
// The NHS http-error-code an error status carries (BaRS error handling).
const ERROR_CODE_FOR = { 400: 'REC_BAD_REQUEST', 403: 'REC_FORBIDDEN', 409: 'REC_CONFLICT', 422: 'REC_UNPROCESSABLE_ENTITY' };
// Decision codes that refuse a readable referral: the IG rules and the scope rule (README "expected.json").
const isIgRule = (code) => /^IG-\d+$/.test(code);
const isRefusal = (code) => isIgRule(code) || code === 'OUT_OF_AREA';

const USAGE = `usage: node bars_client.js --base URL [--client ODS | --cert FILE --key FILE | --cert-dir DIR] [--ca FILE]
                           --expect EXPECTED_JSON SAMPLE_FILE...`;

function parseCommandLine() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      base: { type: 'string' },
      client: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      'cert-dir': { type: 'string' },
      expect: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const tls = values.base?.startsWith('https:');
  const problem =
    (!values.base && '--base is required') ||
    (!values.expect && '--expect is required') ||
    (positionals.length === 0 && 'no sample files') ||
    (tls && values.client && '--client is for plaintext; over TLS the certificate is the identity') ||
    (tls && !values.cert !== !values.key && '--cert and --key go together') ||
    (tls && !values.cert && !values['cert-dir'] && 'over TLS give --cert/--key or --cert-dir') ||
    (!tls && (values.cert || values['cert-dir']) && 'certificates need an https:// --base');
  if (problem) {
    console.error(`bars_client: ${problem}\n${USAGE}`);
    process.exit(2);
  }
  return { opt: values, files: positionals, tls };
}

const { opt, files, tls } = parseCommandLine();
const expected = JSON.parse(fs.readFileSync(opt.expect, 'utf8'));

let failures = 0;
function check(passed, what, detail = '') {
  console.log(`${passed ? 'ok' : 'FAIL'} ${what}${!passed && detail ? ` (${detail})` : ''}`);
  if (!passed) failures += 1;
  return passed;
}

// One fhir-kit-client Client per calling identity, so each carries its own header or certificate.
const clients = new Map();
function clientFor(ods) {
  const identity = tls ? (opt.cert ? 'fixed' : ods) : (opt.client ?? ods);
  if (!clients.has(identity)) {
    const config = { baseUrl: opt.base, customHeaders: {}, requestOptions: {} };
    if (tls) {
      const certFile = opt.cert ?? path.join(opt['cert-dir'], `${ods}.crt`);
      const keyFile = opt.key ?? path.join(opt['cert-dir'], `${ods}.key`);
      const connect = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
      if (opt.ca) connect.ca = fs.readFileSync(opt.ca);
      config.requestOptions.dispatcher = new Agent({ connect });
    } else {
      config.customHeaders['x-frontdoor-client'] = identity;
    }
    clients.set(identity, new Client(config));
  }
  return clients.get(identity);
}

// One FHIR interaction with fresh X-Request-Id and X-Correlation-Id, both of which must come back.
// fhir-kit-client resolves with the parsed body on 2xx (the fetch Response is attached, see httpFor) and
// throws on any other status with err.response {status, data} and the response headers in err.config:
// both become {status, body}. Only a failed exchange (no HTTP answer) is a failure here.
async function interact(what, send) {
  const requestId = randomUUID();
  const correlationId = randomUUID();
  let status;
  let body;
  let headers;
  try {
    body = await send({ headers: { 'x-request-id': requestId, 'x-correlation-id': correlationId } });
    ({ status, headers } = Client.httpFor(body).response);
  } catch (err) {
    if (!err.response) {
      check(false, `${what}: HTTP exchange`, err.cause?.message ?? err.message);
      return null;
    }
    ({ status, data: body } = err.response);
    headers = err.config.headers;
  }
  check(headers.get('x-request-id') === requestId, `${what}: X-Request-Id mirrored`, headers.get('x-request-id'));
  check(headers.get('x-correlation-id') === correlationId, `${what}: X-Correlation-Id mirrored`,
    headers.get('x-correlation-id'));
  return { status, body };
}

// The sender's ODS code: the Organization the MessageHeader's sender references, by its fullUrl.
function senderOds(bundle) {
  const entries = bundle.entry ?? [];
  const header = entries.find((e) => e.resource?.resourceType === 'MessageHeader')?.resource;
  const org = entries.find((e) => e.fullUrl && e.fullUrl === header?.sender?.reference)?.resource;
  return org?.identifier?.find((i) => i.system === ODS_SYSTEM)?.value;
}

// All codings of all issues of an OperationOutcome, flattened.
const codings = (outcome) => (outcome?.issue ?? []).flatMap((i) => i.details?.coding ?? []);
const codesIn = (outcome, system) => codings(outcome).filter((c) => c.system === system).map((c) => c.code);
// A short reason for a FAIL line: the first diagnostics of an OperationOutcome.
const diagnostics = (body) => body?.issue?.[0]?.diagnostics ?? body?.resourceType ?? '';

// The checks of a 200: a response message whose MessageHeader says ok, and a Task with the referral id,
// owned by the connector team expected.json names.
function checkAccepted(name, body, want) {
  const entries = body?.entry ?? [];
  const header = entries[0]?.resource;
  check(body?.resourceType === 'Bundle' && body.type === 'message', `${name}: response is a message Bundle`);
  check(header?.resourceType === 'MessageHeader' && header.response?.code === 'ok',
    `${name}: MessageHeader.response.code is ok`, header?.response?.code);
  const carried = entries.filter((e) => e.resource?.resourceType === 'OperationOutcome')
    .flatMap((e) => codesIn(e.resource, ISSUE_CODE_SYSTEM));
  check(!carried.some(isRefusal), `${name}: no IG rule or OUT_OF_AREA issue`, carried.join(' '));
  const task = entries.find((e) => e.resource?.resourceType === 'Task')?.resource;
  const referralId = task?.identifier?.find((i) => i.system === REFERRAL_ID_SYSTEM)?.value;
  check(Boolean(referralId), `${name}: Task carries the referral id`);
  if (want.connector_id) {
    const owner = task?.owner?.identifier?.value;
    check(owner === want.connector_id, `${name}: Task.owner is ${want.connector_id}`, owner ?? 'no owner');
  }
  return referralId;
}

// The checks of an error answer: an OperationOutcome with the NHS http-error-code of its status, and the
// decision codes expected.json asks for (README "expected.json": how to compare issue codes).
function checkOutcome(name, status, body, want) {
  check(body?.resourceType === 'OperationOutcome', `${name}: error body is an OperationOutcome`);
  const httpCodes = codesIn(body, HTTP_ERROR_SYSTEM);
  check(httpCodes.includes(ERROR_CODE_FOR[status]), `${name}: ${ERROR_CODE_FOR[status] ?? 'http-error-code'}`,
    httpCodes.join(' ') || 'no coding of the http-error-codes system');
  const carried = codesIn(body, ISSUE_CODE_SYSTEM);
  if (status === 400) {
    for (const code of want.issue_codes) check(carried.includes(code), `${name}: issue ${code}`, carried.join(' '));
    check(!carried.some(isRefusal), `${name}: no IG rule or OUT_OF_AREA issue`, carried.join(' '));
  }
  if (status === 422) {
    const refusals = carried.filter(isRefusal);
    check(refusals.length > 0 && refusals.every((c) => want.issue_codes.includes(c)),
      `${name}: refused for ${want.issue_codes.join(' or ')}`, refusals.join(' ') || 'no refusal code');
    if (want.issue_codes.some(isIgRule)) {
      check(refusals.some(isIgRule), `${name}: an IG rule decided it`, refusals.join(' '));
    }
  }
  if (status === 409) {
    check(body?.issue?.some((i) => i.code === 'duplicate'), `${name}: issue code duplicate`);
  }
}

async function main() {
  const referralIds = new Map(); // sample file name -> referral id, for resends and the read-back
  let firstAccepted = null; // { ods, referralId }

  // File-name order: a resend (15) must follow the message it repeats (01).
  const samples = [...files].sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
  for (const file of samples) {
    const name = path.basename(file);
    if (!name.endsWith('.json') || path.resolve(file) === path.resolve(opt.expect)) continue;
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
    const want = expected[name];
    if (!want) {
      check(false, `${name}: no entry in ${opt.expect}`);
      continue;
    }
    // The identity to call with; expected.json names it too, so a mismatch means a misread Bundle.
    const ods = senderOds(bundle);
    const senderOk = check(Boolean(ods) && (!want.sender || ods === want.sender),
      `${name}: sender ${want.sender ?? ods} from MessageHeader.sender`, ods ?? 'no ODS code found');
    if (!senderOk) continue;

    const wantStatus = want.duplicate_of ? 409 : STATUS_FOR[want.disposition];
    const answer = await interact(name, (options) =>
      clientFor(ods).operation({ name: 'process-message', input: bundle, options }));
    if (!answer) continue;
    const { status, body } = answer;
    const label = want.duplicate_of ? `duplicate of ${want.duplicate_of}` : want.disposition;
    if (!check(status === wantStatus, `${name}: HTTP ${wantStatus} (${label})`, `HTTP ${status}: ${diagnostics(body)}`)) {
      continue;
    }
    if (status === 200) {
      const referralId = checkAccepted(name, body, want);
      if (referralId) referralIds.set(name, referralId);
      if (referralId && !firstAccepted) firstAccepted = { ods, referralId };
    } else {
      checkOutcome(name, status, body, want);
    }
    // A resend names the referral the first send made.
    if (status === 409 && referralIds.has(want.duplicate_of)) {
      const named = codesIn(body, REFERRAL_ID_SYSTEM);
      check(named.includes(referralIds.get(want.duplicate_of)),
        `${name}: names referral ${referralIds.get(want.duplicate_of)}`, named.join(' ') || 'no referral id');
    }
  }

  // Read back the first accepted referral as its sender would.
  if (check(Boolean(firstAccepted), 'an accepted referral to read back')) {
    const { ods, referralId } = firstAccepted;
    const client = clientFor(ods);
    const metadata = await interact('metadata', (options) => client.capabilityStatement(options));
    if (metadata) {
      check(metadata.status === 200 && metadata.body?.resourceType === 'CapabilityStatement',
        'metadata: CapabilityStatement', `HTTP ${metadata.status}: ${diagnostics(metadata.body)}`);
    }
    const read = await interact(`ServiceRequest/${referralId}`, (options) =>
      client.read({ resourceType: 'ServiceRequest', id: referralId, options }));
    if (read) {
      check(read.status === 200 && read.body?.resourceType === 'ServiceRequest' && read.body.id === referralId,
        `ServiceRequest/${referralId}: the ServiceRequest`, `HTTP ${read.status}: ${diagnostics(read.body)}`);
    }
    const tasks = await interact(`Task?focus=ServiceRequest/${referralId}`, (options) =>
      client.search({ resourceType: 'Task', searchParams: { focus: `ServiceRequest/${referralId}` }, options }));
    if (tasks) {
      check(tasks.status === 200 && tasks.body?.resourceType === 'Bundle' && tasks.body.type === 'searchset',
        `Task?focus=ServiceRequest/${referralId}: a searchset Bundle`, `HTTP ${tasks.status}: ${diagnostics(tasks.body)}`);
    }
  }

  console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`bars_client: ${err.stack ?? err}`);
  process.exit(2);
});
