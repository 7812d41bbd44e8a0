// Blocks UDP (or TCP) to chosen ports on this machine's loopback with policy routing (no firewall
// tool needed; see ../shared/notes/toolchain.md §7): a `prohibit` rule per port and protocol ahead
// of the local table, whose rule moves from priority 0 to 100 while any block is in place. A UDP
// sender then gets EACCES, a TCP connect fails; every other port and protocol passes. Needs root
// (CI runs as root).
// Always undone: by the returned unblock(), and on process exit for anything left over.
import { execFileSync } from 'node:child_process';

const kLocalMoved = 100;
const active = new Map();  // `${proto}:${port}` -> rule priority

function ip(...args) {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function rules() { return ip('rule', 'list'); }

function restore() {
  for (const [, pref] of active) { try { ip('rule', 'del', 'pref', String(pref)); } catch { /* gone */ } }
  active.clear();
  const list = rules();
  if (!/^0:\s+from all lookup local/m.test(list)) ip('rule', 'add', 'pref', '0', 'lookup', 'local');
  if (new RegExp(`^${kLocalMoved}:\\s+from all lookup local`, 'm').test(rules())) ip('rule', 'del', 'pref', String(kLocalMoved));
}

let exitHook = false;

/** Blocks UDP to `port` on this machine. Returns an idempotent unblock(). */
export function blockUdpPort(port) { return blockPort(port, 'udp'); }

/** Blocks TCP connections to `port` on this machine. Returns an idempotent unblock(). */
export function blockTcpPort(port) { return blockPort(port, 'tcp'); }

function blockPort(port, proto) {
  if (process.getuid?.() !== 0) throw new Error(`blocking ${proto} needs root (policy routing rules)`);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { try { if (active.size) restore(); } catch { /* best effort */ } });
  }
  const key = `${proto}:${port}`;
  let pref = 10;
  while ([...active.values()].includes(pref)) pref++;
  ip('rule', 'add', 'pref', String(pref), 'ipproto', proto, 'dport', String(port), 'prohibit');
  active.set(key, pref);
  if (!new RegExp(`^${kLocalMoved}:\\s+from all lookup local`, 'm').test(rules())) {
    ip('rule', 'add', 'pref', String(kLocalMoved), 'lookup', 'local');
  }
  if (/^0:\s+from all lookup local/m.test(rules())) ip('rule', 'del', 'pref', '0');
  let done = false;
  return () => {
    if (done) return;
    done = true;
    try { ip('rule', 'del', 'pref', String(pref)); } catch { /* already gone */ }
    active.delete(key);
    if (active.size === 0) restore();
  };
}

/** A random port in [20000, 60000): the caller checks the server really listens there. */
export function randomPort() {
  return 20000 + Math.floor(Math.random() * 40000);
}
