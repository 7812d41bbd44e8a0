// An @livekit/rtc-node participant that publishes synthetic media without a camera or a
// microphone: a 440 Hz tone and, with `video`, a moving 320x240 picture. Used by the egress tests.
import {
  Room, AudioSource, AudioFrame, LocalAudioTrack, VideoSource, VideoFrame, VideoBufferType,
  LocalVideoTrack, TrackPublishOptions, TrackSource,
} from '@livekit/rtc-node';

// A participant publishing a 440 Hz tone and, with `video`, a moving 320x240 picture (video
// first: its frames flow before the second track's renegotiation).
export async function startRtcPublisher(url, token, { video = true } = {}) {
  const room = new Room();
  await room.connect(url, token, { autoSubscribe: false, dynacast: false });
  let timer;
  if (video) {
    const width = 320;
    const height = 240;
    const source = new VideoSource(width, height);
    const cam = new TrackPublishOptions();
    cam.source = TrackSource.SOURCE_CAMERA;
    await room.localParticipant.publishTrack(LocalVideoTrack.createVideoTrack('cam', source), cam);
    const rgba = new Uint8Array(width * height * 4);
    let f = 0;
    timer = setInterval(() => {
      for (let y = 0; y < height; y++) rgba.fill((y + f * 4) % 256, y * width * 4, (y + 1) * width * 4);
      f++;
      source.captureFrame(new VideoFrame(rgba, width, height, VideoBufferType.RGBA));
    }, 33);
  }
  const audio = new AudioSource(48000, 1);
  const mic = new TrackPublishOptions();
  mic.source = TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant.publishTrack(LocalAudioTrack.createAudioTrack('mic', audio), mic);
  let stopped = false;
  (async () => {
    const samples = new Int16Array(480);
    let n = 0;
    while (!stopped) {
      for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((n++ * 2 * Math.PI * 440) / 48000));
      await audio.captureFrame(new AudioFrame(samples, 48000, 1, samples.length));
    }
  })();
  return {
    room,
    async close() {
      stopped = true;
      clearInterval(timer);
      await room.disconnect();
    },
  };
}
