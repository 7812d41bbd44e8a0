// A throwaway self-signed certificate for 127.0.0.1 / localhost, made with Debian's openssl at
// test time (never committed), and the Chromium flag that trusts exactly that key.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function makeTestCertificate() {
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-cert-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout', '-in', certFile]);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return {
    certFile,
    keyFile,
    spki,
    chromiumArgs: [`--ignore-certificate-errors-spki-list=${spki}`],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
