// Measures how long a room takes to notice a participant whose process died (issue 13): the
// observer (an @livekit/rtc-node Room in this process) waits until it hears the child peer's
// audio track, the child is killed with SIGKILL, and the time until the observer gets
// ParticipantDisconnected is one sample. Used by tests/integration/dead_peer.test.js and
// bench/dead_peer.js.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RoomEvent } from '@livekit/rtc-node';
import { devToken } from './livekit-page.js';

const peerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtc-node-peer.js');

/**
 * Starts the child peer; resolves to { proc, sid, exited, output(), waitForOutput(re) } once it
 * has published.
 */
export async function startPeer(url, token, { timeoutMs = 20000 } = {}) {
  const proc = spawn(process.execPath, [peerScript, url, token], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const sid = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`peer did not publish in time:\n${err}`));
    }, timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/ready (\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`peer exited (${code ?? signal}):\n${err}`));
    });
  });
  const exited = new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
  const waitForOutput = (re, { timeoutMs = 20000 } = {}) => new Promise((resolve, reject) => {
    if (re.test(out)) { resolve(); return; }
    const timer = setTimeout(() => {
      proc.stdout.off('data', check);
      reject(new Error(`peer did not print ${re}; it printed:\n${out}`));
    }, timeoutMs);
    function check() {
      if (!re.test(out)) return;
      clearTimeout(timer);
      proc.stdout.off('data', check);
      resolve();
    }
    proc.stdout.on('data', check);
  });
  return { proc, sid, exited, output: () => out, waitForOutput };
}

/** Resolves to the time `room` emits `event` for this identity (the participant is its last argument). */
export function participantEvent(room, event, identity, what, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      room.off(event, handler);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    function handler(...args) {
      if (args.at(-1)?.identity !== identity) return;
      clearTimeout(timer);
      room.off(event, handler);
      resolve(performance.now());
    }
    room.on(event, handler);
  });
}

/**
 * One round: a child peer `identity` joins `roomName`, the observer `room` subscribes to its
 * audio, the child is SIGKILLed; resolves to the milliseconds until the observer saw it leave.
 */
export async function deadPeerRound({ url, room, roomName, identity, timeoutMs = 30000 }) {
  const subscribed = participantEvent(room, RoomEvent.TrackSubscribed, identity, `${identity}'s track`, timeoutMs);
  const peer = await startPeer(url, await devToken(identity, roomName));
  try {
    await subscribed;  // its media reaches the observer: the transport is alive
    const gone = participantEvent(room, RoomEvent.ParticipantDisconnected, identity, `${identity} to leave`, timeoutMs);
    const t0 = performance.now();
    peer.proc.kill('SIGKILL');
    const t1 = await gone;
    return t1 - t0;
  } finally {
    if (peer.proc.exitCode === null && peer.proc.signalCode === null) peer.proc.kill('SIGKILL');
    await peer.exited;
  }
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
