// Starts `parlor dev` (media server + app in one process) on free ports with a temp data dir.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parlorBin } from './media.js';

// `cwd`: the working directory (default: the test runner's); the served UI does not depend on it.
export async function startDev({ args = [], timeoutMs = 20000, cwd } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-dev-'));
  const proc = spawn(parlorBin, ['dev', '--port', '0', '--udp-port', '0', '--app-port', '0', '--data-dir', dir, ...args], {
    cwd,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const ports = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parlor dev did not start:\n${out}\n${err}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const media = out.match(/listening (https?)=[^:\s]+:(\d+)/);
      const app = out.match(/listening app=[^:\s]+:(\d+)/);
      if (media && app && out.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve({ media: Number(media[2]), app: Number(app[1]), tls: media[1] === 'https' });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`parlor dev exited ${code}:\n${err}`)); });
  });
  // With --tls-cert/--tls-key both listeners speak TLS only.
  const s = ports.tls ? 's' : '';
  return {
    appUrl: `http${s}://127.0.0.1:${ports.app}`,
    mediaHttpUrl: `http${s}://127.0.0.1:${ports.media}`,
    mediaUrl: `ws${s}://127.0.0.1:${ports.media}`,
    appPort: ports.app,
    mediaPort: ports.media,
    pid: proc.pid,
    output: () => out,
    logs: () => err,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      return proc.exitCode;
    },
  };
}

/** A signed-in API session: keeps the cookie and CSRF token like the web UI does. */
export class ApiSession {
  constructor(base) { this.base = base; this.cookie = ''; this.csrf = ''; }

  async login(email, password) {
    const res = await this.request('POST', '/api/auth/login', { email, password });
    if (res.status === 200) {
      this.csrf = res.body.csrfToken;
    }
    return res;
  }

  async request(method, p, body, { csrf = true, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (this.cookie) h.Cookie = this.cookie;
    if (body !== undefined || raw !== undefined) h['Content-Type'] ??= 'application/json';
    if (csrf && this.csrf && method !== 'GET') h['X-CSRF-Token'] = this.csrf;
    const res = await fetch(this.base + p, {
      method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await res.text();
    let parsed;
    try { parsed = JSON.parse(text); } catch { parsed = text; }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get(p) { return this.request('GET', p); }
  post(p, body = {}) { return this.request('POST', p, body); }
}
