// How long the others take to see a participant whose process died (issue 13): an observer
// (@livekit/rtc-node, this process) and a peer in a child process that publishes audio; the child
// is SIGKILLed once its audio reaches the observer, and the time until the observer gets
// ParticipantDisconnected is one sample. Before issue 13: ~15.2 s (the resume window).
// Usage: node bench/dead_peer.js [rounds=10]   (PARLOR_BIN picks the binary)
// Prints each round and the median in milliseconds. Numbers go in issue notes, not assertions.
import { Room, dispose } from '@livekit/rtc-node';
import { startMedia } from '../tests/lib/media.js';
import { devToken } from '../tests/lib/livekit-page.js';
import { deadPeerRound, median } from '../tests/lib/dead-peer.js';

const rounds = Number(process.argv[2] ?? 10);
const media = await startMedia();
const observer = new Room();
try {
  const roomName = `bench-dead-${Math.random().toString(36).slice(2, 8)}`;
  await observer.connect(media.url, await devToken('observer', roomName), { autoSubscribe: true, dynacast: false });
  const times = [];
  for (let i = 1; i <= rounds; i++) {
    const ms = await deadPeerRound({ url: media.url, room: observer, roomName, identity: `peer-${i}` });
    times.push(ms);
    console.log(`round ${i}: ${ms.toFixed(0)} ms`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(JSON.stringify({
    binary: process.env.PARLOR_BIN ?? 'build/test/parlor', rounds,
    median_ms: Math.round(median(times)), min_ms: Math.round(sorted[0]), max_ms: Math.round(sorted.at(-1)),
  }));
} finally {
  await observer.disconnect();
  await media.stop();
  await dispose();
}
