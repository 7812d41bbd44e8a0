// A participant in its own process, for tests that kill it: `node tests/lib/rtc-node-peer.js
// <ws-url> <token>` joins with @livekit/rtc-node, publishes a microphone track (a 440 Hz tone)
// and prints "ready <sid>" once published, then "reconnected" / "disconnected <reason>" as its
// connection state changes; it runs until it is killed.
import {
  Room, RoomEvent, AudioSource, AudioFrame, LocalAudioTrack, TrackPublishOptions, TrackSource,
} from '@livekit/rtc-node';

const [url, token] = process.argv.slice(2);
const room = new Room();
room.on(RoomEvent.Reconnected, () => process.stdout.write('reconnected\n'));
room.on(RoomEvent.Disconnected, (reason) => process.stdout.write(`disconnected ${reason}\n`));
await room.connect(url, token, { autoSubscribe: false, dynacast: false });

const source = new AudioSource(48000, 1);
const track = LocalAudioTrack.createAudioTrack('mic', source);
const options = new TrackPublishOptions();
options.source = TrackSource.SOURCE_MICROPHONE;
await room.localParticipant.publishTrack(track, options);
process.stdout.write(`ready ${room.localParticipant.sid}\n`);

const samples = new Int16Array(480);  // 10 ms at 48 kHz
let n = 0;
for (;;) {
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((n++ * 2 * Math.PI * 440) / 48000));
  await source.captureFrame(new AudioFrame(samples, 48000, 1, samples.length));
}
