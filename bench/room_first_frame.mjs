// Room media benchmarks on loopback, with Debian's Chromium and the official livekit-client:
//  1. time from `room.connect()` to the first decoded remote video frame (median of N joins
//     into a room where another browser already publishes);
//  2. `parlor media` CPU while two browsers hold a call (camera + microphone each).
// Usage: PARLOR_BIN=build/release/parlor node bench/room_first_frame.mjs [joins=10] [seconds=20]
// Numbers go in issue notes, never in test assertions.
import { readFileSync } from 'node:fs';
import { startMedia } from '../tests/lib/media.js';
import { launchChromium } from '../tests/lib/browser.js';
import { serveLivekitPage, devToken } from '../tests/lib/livekit-page.js';

const joins = Number(process.argv[2] ?? 10);
const seconds = Number(process.argv[3] ?? 20);

const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;  // utime + stime, in clock ticks of 10 ms
};

const media = await startMedia({ args: ['--dev'] });
const site = await serveLivekitPage();
const browser = await launchChromium();
try {
  const room = 'bench';
  const publisher = await (await browser.newContext()).newPage();
  await publisher.goto(site.url);
  await publisher.evaluate(([u, t]) => window.join(u, t), [media.url, await devToken('publisher', room)]);

  const samples = [];
  for (let i = 0; i < joins; i++) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(site.url);
    const token = await devToken(`viewer-${i}`, room, { canPublish: false });
    const ms = await page.evaluate(async ([url, tok]) => {
      const { Room, RoomEvent } = LivekitClient;
      const r = new Room();
      window.room = r;
      const firstFrame = new Promise((resolve) => {
        r.on(RoomEvent.TrackSubscribed, (track) => {
          if (track.kind !== 'video') return;
          const el = track.attach();
          el.muted = true;
          document.body.appendChild(el);
          el.requestVideoFrameCallback(() => resolve(performance.now()));
        });
      });
      const t0 = performance.now();
      await r.connect(url, tok);
      return (await firstFrame) - t0;
    }, [media.url, token]);
    samples.push(ms);
    await page.evaluate(() => window.room.disconnect());
    await page.context().close();
  }
  samples.sort((a, b) => a - b);

  // Two browsers in a call: the publisher plus one more that publishes too.
  const second = await (await browser.newContext()).newPage();
  await second.goto(site.url);
  await second.evaluate(([u, t]) => window.join(u, t), [media.url, await devToken('second', room)]);
  await new Promise((r) => setTimeout(r, 5000));  // settle (layers ramp up)
  const c0 = cpuSeconds(media.proc.pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = (cpuSeconds(media.proc.pid) - c0) / ((Date.now() - t0) / 1000);
  const received = await second.evaluate(() => window.videoProgress());
  const metrics = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const udp = (name) => Number(metrics.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? 0);

  console.log(JSON.stringify({
    binary: process.env.PARLOR_BIN ?? 'build/test/parlor',
    connectToFirstFrameMs: {
      median: samples[Math.floor(samples.length / 2)].toFixed(1),
      min: samples[0].toFixed(1),
      max: samples[samples.length - 1].toFixed(1),
      n: samples.length,
    },
    twoBrowserCall: {
      serverCpuPercentOfOneCore: (cpu * 100).toFixed(1),
      seconds,
      remoteVideoAtSecond: `${received?.width}x${received?.height}`,
    },
    udp: { received: udp('parlor_udp_received_total'), sent: udp('parlor_udp_sent_total') },
  }, null, 2));
} finally {
  await browser.close();
  await site.close();
  await media.stop();
}
