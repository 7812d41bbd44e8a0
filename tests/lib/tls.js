// Test certificates made at run time with the openssl command (never committed): a private CA
// and leaf certificates for localhost / 127.0.0.1 signed by it, plus what clients need to trust
// them (the CA's PEM for Node, the SPKI hash for Chromium's --ignore-certificate-errors-spki-list).
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A private CA in a temp dir. issue(name) makes `<name>.pem`/`<name>.key` signed by it. */
export function makeTestCa() {
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-tls-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Parlor Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  writeFileSync(path.join(dir, 'leaf.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n'
    + 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  const caPem = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    caPem,
    issue(name) {
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost'], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', 'leaf.ext'], dir);
      chmodSync(path.join(dir, `${name}.key`), 0o600);
      const cert = path.join(dir, `${name}.pem`);
      return { cert, key: path.join(dir, `${name}.key`), fingerprint: fingerprint256(cert), spki: spkiHash(cert) };
    },
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Node's fingerprint256 form ("AB:CD:...") of a PEM certificate file. */
export function fingerprint256(certFile) {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's SPKI list format). */
export function spkiHash(certFile) {
  const der = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** Installs `from` (cert + key) at `to`'s paths the way deploy tools do: write aside, rename. */
export function replaceCertificate(from, to) {
  for (const kind of ['key', 'cert']) {
    const tmp = `${to[kind]}.new`;
    writeFileSync(tmp, readFileSync(from[kind]), { mode: 0o600 });
    renameSync(tmp, to[kind]);
  }
}

/** The SHA-256 fingerprint of the certificate a fresh TLS connection to 127.0.0.1:port sees. */
export function servedFingerprint(port, ca) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

/** One HTTPS request on a new connection (no agent). Resolves to { status, headers, body }. */
export function httpsRequest(url, { method = 'GET', headers = {}, body, ca } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A raw TCP connection to 127.0.0.1:port (for plain HTTP or garbage sent to a TLS port). */
export function rawConnect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', reject);
  });
}
