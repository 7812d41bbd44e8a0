#!/usr/bin/env node
// A rough probe of the media workers (docs/performance.md, "Workers"): starts `parlor media`
// with --workers W on loopback, opens R rooms of one @livekit/rtc-node publisher (320x240 video
// at 30 fps and a 48 kHz tone) and S rtc-node subscribers each, lets them settle, then measures
// for D seconds the server's CPU (user+sys from /proc/PID/stat), the datagrams it sent (forwarded
// media plus RTCP, from /metrics) and how they spread over the workers. Bounded: it stops itself.
//
//   PARLOR_BIN=build/rel/parlor node tools/workers-probe.mjs --workers 2 --rooms 2 --subs 4 --seconds 15
import { readFileSync } from 'node:fs';
import { dispose, Room } from '@livekit/rtc-node';
import { startMedia } from '../tests/lib/media.js';
import { devToken } from '../tests/lib/livekit-page.js';
import { startRtcPublisher } from '../tests/lib/rtc-publisher.js';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const workers = Number(args.workers ?? 2);
const roomsN = Number(args.rooms ?? 2);
const subsN = Number(args.subs ?? 4);
const seconds = Math.min(Number(args.seconds ?? 15), 120);

const ticks = 100;  // USER_HZ
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;  // utime + stime
}
async function metric(url, re) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(re)) out[m[1] ?? 'all'] = Number(m[2]);
  return out;
}

const media = await startMedia({ args: ['--dev', '--workers', String(workers)], env: { LIVEKIT_LOG_LEVEL: 'warn' } });
const clients = [];
try {
  for (let r = 0; r < roomsN; r++) {
    const name = `probe-${r}`;
    clients.push(await startRtcPublisher(media.url, await devToken(`pub-${r}`, name)));
    for (let s = 0; s < subsN; s++) {
      const room = new Room();
      await room.connect(media.url, await devToken(`sub-${r}-${s}`, name), { autoSubscribe: true, dynacast: false });
      clients.push({ close: () => room.disconnect() });
    }
  }
  await new Promise((r) => setTimeout(r, 8000));  // simulcast layers ramp up
  const perWorker = /^parlor_worker_udp_sent_total\{worker="(\d+)"\} (\d+)$/gm;
  const t0 = Date.now();
  const c0 = cpuSeconds(media.proc.pid);
  const s0 = await metric(media.httpUrl, perWorker);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c1 = cpuSeconds(media.proc.pid);
  const s1 = await metric(media.httpUrl, perWorker);
  const elapsed = (Date.now() - t0) / 1000;
  const sent = Object.keys(s1).map((w) => s1[w] - (s0[w] ?? 0));
  const total = sent.reduce((a, b) => a + b, 0);
  const cpu = c1 - c0;
  console.log(JSON.stringify({
    workers, rooms: roomsN, subscribers_per_room: subsN, seconds: elapsed,
    datagrams_sent_per_s: Math.round(total / elapsed),
    per_worker_sent_per_s: sent.map((n) => Math.round(n / elapsed)),
    server_cpu_percent: Math.round((cpu / elapsed) * 1000) / 10,
    server_cpu_us_per_datagram_sent: Math.round((cpu * 1e6 / total) * 10) / 10,
  }));
} finally {
  for (const c of clients) await c.close().catch(() => {});
  await media.stop();
  await dispose();
}
