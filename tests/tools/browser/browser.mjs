// Test tooling: launches Debian's chromium headless through puppeteer-core with a fresh profile,
// trusting a test CA and presenting a test client certificate (mutual TLS) without any dialog.
// See README.md beside this file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

// The real binary, not the /usr/bin/chromium shell wrapper: the wrapper only adds desktop flags
// (extensions, GPU rasterization) and sources /etc/chromium.d, which prints a spurious error here.
export const CHROMIUM_PATH =
  process.env.CHROMIUM_PATH ||
  (fs.existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : '/usr/bin/chromium');

// Where Debian's chromium reads machine-wide mandatory policies from (*.json, read at startup and
// watched for changes).
export const MANAGED_POLICY_DIR = '/etc/chromium/policies/managed';

const P12_PASSWORD = 'frontdoor-test';
const NSS_TOOLS_HINT = 'certutil/pk12util missing: apt-get install libnss3-tools (scripts/install-deps)';

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error(`${cmd}: not found${cmd.endsWith('util') ? ` (${NSS_TOOLS_HINT})` : ''}`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

// Turns autoSelectFor into content-settings patterns: a URL keeps its scheme, host and port
// ('https://127.0.0.1:8443/console' -> 'https://127.0.0.1:8443'); anything else (e.g. '*',
// '[*.]example.test') is taken as a pattern already.
function toPatterns(autoSelectFor) {
  const list = Array.isArray(autoSelectFor) ? autoSelectFor : [autoSelectFor];
  return list.map((p) => {
    if (!/^[a-z]+:\/\//i.test(p)) return p;
    const u = new URL(p);
    return `${u.protocol}//${u.host}`;
  });
}

/**
 * Launches chromium headless (new headless mode) with a fresh profile and HOME.
 *
 * @param {object} [opts]
 * @param {{certPem: string, keyPem: string} | {certPath: string, keyPath: string} |
 *         {p12Path: string, p12Password?: string}} [opts.clientCert]
 *   the client certificate and key to present; imported into the profile's NSS DB. Without it the
 *   browser has no client certificate (servers asking for one get none, without a dialog).
 * @param {string} [opts.caCertPath] PEM CA certificate trusted for server certificates (NSS DB).
 * @param {string|string[]} [opts.autoSelectFor] URL(s) or content-settings pattern(s) for which
 *   chromium picks the client certificate by itself ('*' when a clientCert is given without it).
 * @param {object} [opts.certFilter] AutoSelectCertificateForUrls filter, e.g.
 *   {ISSUER: {CN: 'Test CA'}}; default {} (any certificate: the fresh NSS DB holds only this one).
 * @param {'profile'|'managed'} [opts.autoSelectVia] 'profile' (default): the content setting in
 *   the profile's Preferences, per run; 'managed': a policy file in /etc/chromium/policies/managed
 *   (needs root, seen by every chromium started meanwhile; removed on close).
 * @param {string} [opts.profileDir] directory for HOME (home/) and the profile (profile/); default
 *   a new temporary directory, removed on close. A given one is kept, for inspection.
 * @param {boolean} [opts.ignoreCertificateErrors] last resort instead of caCertPath.
 * @param {string[]} [opts.args] extra chromium flags.
 * @param {object} [opts.launchOptions] extra puppeteer.launch options (override ours).
 * @returns {Promise<import('puppeteer-core').Browser>} browser.close() also cleans up; the paths
 *   used are in browser.frontdoor = {profileDir, home, userDataDir, nssDb, policyFile}.
 */
export async function launchBrowser(opts = {}) {
  const {
    clientCert,
    caCertPath,
    certFilter = {},
    autoSelectVia = 'profile',
    ignoreCertificateErrors = false,
    args = [],
    launchOptions = {},
  } = opts;
  const autoSelectFor = opts.autoSelectFor ?? (clientCert ? '*' : undefined);
  if (!['profile', 'managed'].includes(autoSelectVia)) throw new Error(`autoSelectVia: ${autoSelectVia}?`);

  const ownDir = !opts.profileDir;
  const profileDir = opts.profileDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'frontdoor-browser-'));
  const home = path.join(profileDir, 'home');
  const userDataDir = path.join(profileDir, 'profile');
  const nssDb = path.join(home, '.pki', 'nssdb');
  let policyFile = null;
  const cleanup = () => {
    if (policyFile) fs.rmSync(policyFile, { force: true });
    policyFile = null;
    if (ownDir) fs.rmSync(profileDir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);

  try {
    fs.mkdirSync(nssDb, { recursive: true });
    fs.mkdirSync(path.join(userDataDir, 'Default'), { recursive: true });

    // The NSS DB chromium uses on Linux for trust anchors and client certificates: $HOME/.pki/nssdb.
    const db = `sql:${nssDb}`;
    if (!fs.existsSync(path.join(nssDb, 'cert9.db'))) run('certutil', ['-N', '-d', db, '--empty-password']);
    if (caCertPath) {
      // C,, = a trusted CA for TLS server certificates.
      run('certutil', ['-A', '-d', db, '-n', 'frontdoor-test-ca', '-t', 'C,,', '-i', caCertPath]);
    }
    if (clientCert) {
      let p12Path = clientCert.p12Path;
      let p12Password = clientCert.p12Password ?? '';
      if (!p12Path) {
        const certPem = clientCert.certPem ?? fs.readFileSync(clientCert.certPath, 'utf8');
        const keyPem = clientCert.keyPem ?? fs.readFileSync(clientCert.keyPath, 'utf8');
        if (!certPem || !keyPem) throw new Error('clientCert: need {certPem, keyPem}, {certPath, keyPath} or {p12Path}');
        const pemFile = path.join(profileDir, 'client.pem');
        p12Path = path.join(profileDir, 'client.p12');
        p12Password = P12_PASSWORD;
        fs.writeFileSync(pemFile, `${certPem.trim()}\n${keyPem.trim()}\n`, { mode: 0o600 });
        run('openssl', ['pkcs12', '-export', '-in', pemFile, '-out', p12Path, '-name', 'frontdoor-test-client',
          '-passout', `pass:${p12Password}`]);
        fs.rmSync(pemFile);
      }
      run('pk12util', ['-i', p12Path, '-d', db, '-W', p12Password, '-K', '']);
    }

    if (autoSelectFor) {
      const patterns = toPatterns(autoSelectFor);
      if (autoSelectVia === 'profile') {
        // The same content setting the AutoSelectCertificateForUrls policy sets, as a user setting
        // of this profile: profile.content_settings.exceptions.auto_select_certificate.
        const exceptions = {};
        for (const p of patterns) {
          exceptions[`${p},*`] = { last_modified: '0', setting: { filters: [certFilter] } };
        }
        const prefs = { profile: { content_settings: { exceptions: { auto_select_certificate: exceptions } } } };
        fs.writeFileSync(path.join(userDataDir, 'Default', 'Preferences'), JSON.stringify(prefs));
      } else {
        fs.mkdirSync(MANAGED_POLICY_DIR, { recursive: true });
        policyFile = path.join(MANAGED_POLICY_DIR, `frontdoor-test-${process.pid}-${path.basename(profileDir)}.json`);
        const policy = {
          AutoSelectCertificateForUrls: patterns.map((pattern) => JSON.stringify({ pattern, filter: certFilter })),
        };
        fs.writeFileSync(policyFile, JSON.stringify(policy));
      }
    }

    const flags = [
      '--no-first-run',
      '--no-default-browser-check',
      '--password-store=basic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--metrics-recording-only',
      // Containers often give /dev/shm 64 MB, where chromium's renderers crash; /tmp has room.
      '--disable-dev-shm-usage',
      ...(ignoreCertificateErrors ? ['--ignore-certificate-errors'] : []),
      // chromium refuses to run as root with its sandbox.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      ...args,
    ];
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true, // the new headless mode (the full browser, no window)
      userDataDir,
      args: flags,
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_CACHE_HOME: path.join(home, '.cache'),
      },
      ...launchOptions,
    });
    browser.frontdoor = { profileDir, home, userDataDir, nssDb, policyFile };
    const close = browser.close.bind(browser);
    browser.close = async () => {
      try {
        await close();
      } finally {
        cleanup();
        process.removeListener('exit', cleanup);
      }
    };
    return browser;
  } catch (e) {
    cleanup();
    process.removeListener('exit', cleanup);
    throw e;
  }
}
