// Starts the real `parlor` binary for a test and stops it afterwards.
// The binary comes from PARLOR_BIN (the Makefile points it at the sanitizer build) or
// build/test/parlor. Ports are picked by the server (--port 0) and read back from its
// "listening http=ADDR:PORT" (or https=) line, so tests can run side by side.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const parlorBin = process.env.PARLOR_BIN
  ? path.resolve(repoRoot, process.env.PARLOR_BIN)
  : path.join(repoRoot, 'build/test/parlor');

export const devKey = 'devkey';
export const devSecret = 'secret';

/**
 * Starts `parlor media`. Options: `config` (YAML text written to a temp file), `args` (extra
 * CLI flags), `env`. Resolves to { url, httpUrl, port, proc, logs(), stop() }.
 */
export async function startMedia({ config, args = [], env = {}, timeoutMs = 15000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-media-'));
  const fullArgs = ['media', '--port', '0', '--udp-port', '0', ...args];
  if (config !== undefined) {
    const file = path.join(dir, 'media.yaml');
    writeFileSync(file, config);
    fullArgs.push('--config', file);
  } else if (!args.includes('--dev') && !args.includes('--keys')) {
    fullArgs.push('--dev');
  }
  const proc = spawn(parlorBin, fullArgs, {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let tls = false;
  proc.stderr.on('data', (d) => { err += d; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parlor media did not start:\n${err}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening (https?)=[^:\s]+:(\d+)/);
      if (m) { clearTimeout(timer); tls = m[1] === 'https'; resolve(Number(m[2])); }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parlor media exited with ${code}:\n${err}`));
    });
  });
  const s = tls ? 's' : '';  // TLS configured: the port speaks HTTPS/WSS only
  const httpUrl = `http${s}://127.0.0.1:${port}`;
  return {
    port,
    httpUrl,
    url: `ws${s}://127.0.0.1:${port}`,
    proc,
    logs: () => err,
    stdout: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {  // still running
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        // A server that does not stop within 15 s is wedged: kill it, and report it (exit code
        // null, signal SIGKILL) rather than hang the whole test run.
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      return proc.exitCode;
    },
  };
}

/** Runs `parlor` with arguments to completion; resolves to { code, stdout, stderr }. */
export function runParlor(args, { env = {}, cwd } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(parlorBin, args, {
      cwd,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
