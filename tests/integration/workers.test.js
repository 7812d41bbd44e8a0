// Several media workers (issue 14, "Every core"): two rooms on a server with two workers are
// placed on different workers, each carries media and data-channel messages, and no state is
// shared between them. The proof of the last part is the ownership assertion: the test binary
// is a sanitizer build, where every Room, Participant and transport checks that it is touched
// only on its own worker's thread (sfu::Worker::check_owner) and aborts the server with
// "ownership violation" otherwise; the test fails if the server dies, prints that, or exits
// uncleanly. The rooms are told apart by /metrics' per-worker figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Room, RoomEvent, TrackKind, dispose } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { devToken } from '../lib/livekit-page.js';
import { startRtcPublisher } from '../lib/rtc-publisher.js';

let media;
let rooms;

before(async () => {
  media = await startMedia({ args: ['--dev', '--workers', '2'] });
  rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
});

after(async () => {
  await media?.stop();
  await dispose();
});

// The server must be alive: an ownership violation aborts it (its message is in the logs).
function alive() {
  if (media.proc.exitCode !== null || media.proc.signalCode !== null) {
    throw new Error(`parlor media died (${media.proc.signalCode ?? media.proc.exitCode}):\n${media.logs()}`);
  }
}

async function metrics() {
  alive();
  return (await fetch(`${media.httpUrl}/metrics`)).text();
}

function value(text, series) {
  const escaped = series.replace(/[{}"\\]/g, (c) => `\\${c}`);
  const m = text.match(new RegExp(`^${escaped} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

// A publisher (video, audio, and a data message every 50 ms) and a subscriber counting what it
// receives, in a room of their own.
async function busyRoom(name) {
  const publisher = await startRtcPublisher(media.url, await devToken(`pub-${name}`, name));
  const subscriber = new Room();
  const got = { tracks: new Set(), data: 0 };
  subscriber.on(RoomEvent.TrackSubscribed, (track) => got.tracks.add(track.kind));
  subscriber.on(RoomEvent.DataReceived, () => { got.data++; });
  await subscriber.connect(media.url, await devToken(`sub-${name}`, name), { autoSubscribe: true, dynacast: false });
  let n = 0;
  const timer = setInterval(() => {
    publisher.room.localParticipant.publishData(new TextEncoder().encode(`${name} ${n++}`), { reliable: true })
      .catch(() => {});
  }, 50);
  return {
    name,
    got,
    async close() {
      clearInterval(timer);
      await subscriber.disconnect();
      await publisher.close();
    },
  };
}

test('two rooms on two workers carry media and data without sharing state', async () => {
  assert.match(media.stdout(), /media worker 1 of 2/, 'two workers, one UDP port each');
  const a = await busyRoom(`wa-${Math.random().toString(36).slice(2, 8)}`);
  const b = await busyRoom(`wb-${Math.random().toString(36).slice(2, 8)}`);
  try {
    for (const r of [a, b]) {
      await waitFor(() => alive() || r.got.tracks.has(TrackKind.KIND_VIDEO) && r.got.tracks.has(TrackKind.KIND_AUDIO) && r.got.data >= 20,
        { timeoutMs: 30000, intervalMs: 100, what: 'media and data in both rooms' });
    }
    // One room on each worker, each worker carrying its room's transports and datagrams.
    const m = await waitFor(async () => {
      const text = await metrics();
      const ok = [0, 1].every((w) => value(text, `parlor_worker_udp_received_total{worker="${w}"}`) > 200);
      return ok && text;
    }, { timeoutMs: 20000, intervalMs: 200, what: 'traffic on both workers' });
    assert.equal(value(m, 'parlor_workers'), 2);
    assert.equal(value(m, 'parlor_worker_rooms{worker="0"}'), 1);
    assert.equal(value(m, 'parlor_worker_rooms{worker="1"}'), 1);
    for (const w of [0, 1]) {
      // Publisher and subscriber (one PC each in v1 clients, two in v0): at least two each.
      assert.ok(value(m, `parlor_worker_transports{worker="${w}"}`) >= 2, `transports on worker ${w}`);
    }
    assert.equal(value(m, 'parlor_transports'),
      value(m, 'parlor_worker_transports{worker="0"}') + value(m, 'parlor_worker_transports{worker="1"}'),
      'node totals are the sum over workers');
    // RoomService reaches each room's participants on its own worker.
    for (const r of [a, b]) assert.equal((await rooms.listParticipants(r.name)).length, 2, r.name);
  } finally {
    await a.close();
    await b.close();
  }
  assert.equal(media.proc.exitCode, null, `the server is still running:\n${media.logs()}`);
  assert.doesNotMatch(media.logs(), /ownership violation/);
  assert.equal(await media.stop(), 0, `clean exit:\n${media.logs()}`);
  assert.doesNotMatch(media.logs(), /ownership violation/);
  media = null;
});
