// Moderation the server enforces, whatever a participant's client does: a RoomService mute stops
// the track's media at the SFU until RoomService unmutes it (the publisher's own unmute is
// refused), UpdateParticipant permission changes unpublish and refuse at once, and a hidden
// monitor leaves no trace in anything the other clients receive.
// Publishers and subscribers are @livekit/rtc-node; the observer that must not detect the
// monitor is a raw WebSocket client reading every signal message (as signal_bad_input does).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  Room, RoomEvent, AudioSource, AudioFrame, LocalAudioTrack, VideoSource, VideoFrame, VideoBufferType,
  LocalVideoTrack, TrackPublishOptions, TrackSource, TrackKind, AudioStream, VideoStream, dispose,
} from '@livekit/rtc-node';
import { RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
import {
  SignalRequest, SignalResponse, JoinRequest, WrappedJoinRequest, WrappedJoinRequest_Compression,
  ClientInfo, ClientInfo_SDK, ConnectionSettings, AddTrackRequest, TrackType, TrackSource as ProtoSource,
  RequestResponse_Reason, ParticipantInfo_State,
} from '@livekit/protocol';
import { createRequire } from 'node:module';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { startWebhookSink } from '../lib/webhook-sink.js';
import { devToken } from '../lib/livekit-page.js';

// The FFI message class from the very module instance rtc-node itself loads.
const { LocalTrackMuteRequest } = createRequire(import.meta.url)('@livekit/rtc-ffi-bindings');

let media;
let rooms;
let sink;

before(async () => {
  sink = await startWebhookSink();
  // Remote unmute on: RoomService's unmute also asks the client to unmute (LiveKit's option).
  media = await startMedia({
    config: `development: true\nkeys:\n  ${devKey}: ${devSecret}\nwebhook:\n  api_key: ${devKey}\n  urls:\n    - ${sink.url}\n` +
      'room:\n  enable_remote_unmute: true\n',
  });
  rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
});

after(async () => {
  await media?.stop();
  await sink?.close();
  await dispose();
});

const uniqueRoom = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

// A synthetic microphone (a 440 Hz tone) and camera fed until stop().
async function publishMedia(room, { audio = true, video = true } = {}) {
  const out = { stopped: false, timers: [] };
  if (audio) {
    const source = new AudioSource(48000, 1);
    out.audio = LocalAudioTrack.createAudioTrack('mic', source);
    const o = new TrackPublishOptions();
    o.source = TrackSource.SOURCE_MICROPHONE;
    out.audioPub = await room.localParticipant.publishTrack(out.audio, o);
    const samples = new Int16Array(480);
    (async () => {
      let n = 0;
      while (!out.stopped) {
        for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((n++ * 2 * Math.PI * 440) / 48000));
        await source.captureFrame(new AudioFrame(samples, 48000, 1, 480));
      }
    })();
  }
  if (video) {
    const source = new VideoSource(160, 120);
    out.video = LocalVideoTrack.createVideoTrack('cam', source);
    const o = new TrackPublishOptions();
    o.source = TrackSource.SOURCE_CAMERA;
    out.videoPub = await room.localParticipant.publishTrack(out.video, o);
    const rgba = new Uint8Array(160 * 120 * 4);
    let n = 0;
    out.timers.push(setInterval(() => {
      rgba.fill((n++ * 7) % 256);
      source.captureFrame(new VideoFrame(rgba, 160, 120, VideoBufferType.RGBA));
    }, 33));
  }
  out.stop = () => { out.stopped = true; out.timers.forEach(clearInterval); };
  return out;
}

// What a subscriber receives: audio frames carrying the tone (silence and loss concealment do
// not count) and decoded video frames.
function countMedia(room) {
  const counts = { loudAudio: 0, videoFrames: 0 };
  room.on(RoomEvent.TrackSubscribed, async (track) => {
    if (track.kind === TrackKind.KIND_AUDIO) {
      for await (const frame of new AudioStream(track)) {
        let sum = 0;
        for (const s of frame.data) sum += s * s;
        if (Math.sqrt(sum / frame.data.length) > 1000) counts.loudAudio++;
      }
    } else {
      for await (const _ of new VideoStream(track)) counts.videoFrames++;
    }
  });
  return counts;
}

// Resolves once `read()` has not changed for `quietMs` (polled), or fails after `timeoutMs`.
async function waitStalled(read, what, { quietMs = 1500, timeoutMs = 10000 } = {}) {
  let last = read();
  let since = Date.now();
  await waitFor(() => {
    const v = read();
    if (v !== last) { last = v; since = Date.now(); }
    return Date.now() - since >= quietMs;
  }, { timeoutMs, intervalMs: 50, what: `${what} to stop` });
  return last;
}

async function waitAdvancing(read, what, by = 10, timeoutMs = 15000) {
  const start = read();
  await waitFor(() => read() >= start + by, { timeoutMs, intervalMs: 50, what: `${what} advancing` });
}

// The publisher's own SDK muting or unmuting its local track (rtc-node 1.x has no JS wrapper for
// it; this is the SDK's FFI request, which sends MuteTrackRequest to the server).
function setLocalMute(track, mute) {
  const value = new LocalTrackMuteRequest({ trackHandle: track.ffi_handle.handle, mute });
  globalThis._ffiClientInstance.request({ message: { case: 'localTrackMute', value } });
}
// Muted first, so the unmute is a change the SDK signals whatever it made of the server's mute.
function unmuteLocally(track) {
  setLocalMute(track, true);
  setLocalMute(track, false);
}

test('a RoomService mute stops the media at the server until RoomService unmutes it', async () => {
  const roomName = uniqueRoom('mute');
  const visitor = new Room();
  const resident = new Room();
  const counts = countMedia(resident);
  const seenMuted = new Map();
  resident.on(RoomEvent.TrackMuted, (pub) => seenMuted.set(pub.sid, true));
  resident.on(RoomEvent.TrackUnmuted, (pub) => seenMuted.set(pub.sid, false));
  await resident.connect(media.url, await devToken('resident', roomName), { autoSubscribe: true, dynacast: false });
  await visitor.connect(media.url, await devToken('visitor', roomName), { autoSubscribe: true, dynacast: false });
  const pub = await publishMedia(visitor);
  try {
    await waitAdvancing(() => counts.loudAudio, 'the tone at the resident');
    await waitAdvancing(() => counts.videoFrames, 'video frames at the resident');

    for (const p of [pub.audioPub, pub.videoPub]) {
      const info = await rooms.mutePublishedTrack(roomName, 'visitor', p.sid, true);
      assert.equal(info.sid, p.sid);
      assert.equal(info.muted, true);
    }
    await waitFor(() => seenMuted.get(pub.audioPub.sid) && seenMuted.get(pub.videoPub.sid),
      { timeoutMs: 5000, what: 'the resident sees both tracks muted' });
    await waitStalled(() => counts.loudAudio, 'the tone at the resident');
    await waitStalled(() => counts.videoFrames, 'video frames at the resident');

    // The visitor's client unmutes itself (a modified client would): refused, nothing flows.
    unmuteLocally(pub.audio);
    unmuteLocally(pub.video);
    const audioBefore = counts.loudAudio;
    const videoBefore = counts.videoFrames;
    await waitStalled(() => counts.loudAudio + counts.videoFrames, 'media after the client unmute', { quietMs: 3000 });
    assert.equal(counts.loudAudio, audioBefore, 'no tone reaches the resident');
    assert.equal(counts.videoFrames, videoBefore, 'no video reaches the resident');
    const listed = await rooms.getParticipant(roomName, 'visitor');
    assert.deepEqual(listed.tracks.map((t) => t.muted), [true, true], 'still muted for everyone');
    assert.equal(seenMuted.get(pub.audioPub.sid), true);
    assert.equal(seenMuted.get(pub.videoPub.sid), true);

    // RoomService lifts the mute; the client unmutes (asked to, and on its own too).
    for (const p of [pub.audioPub, pub.videoPub]) {
      const info = await rooms.mutePublishedTrack(roomName, 'visitor', p.sid, false);
      assert.equal(info.muted, false);
    }
    setLocalMute(pub.audio, false);
    setLocalMute(pub.video, false);
    await waitAdvancing(() => counts.loudAudio, 'the tone after the RoomService unmute');
    await waitAdvancing(() => counts.videoFrames, 'video after the RoomService unmute');
    await waitFor(() => seenMuted.get(pub.audioPub.sid) === false, { timeoutMs: 5000, what: 'the resident sees the unmute' });
  } finally {
    pub.stop();
    await visitor.disconnect();
    await resident.disconnect();
  }
});

// A raw signaling session: every message is kept (decoded and as bytes).
function joinParam(autoSubscribe = true) {
  const join = new JoinRequest({
    clientInfo: new ClientInfo({ sdk: ClientInfo_SDK.JS, protocol: 16 }),
    connectionSettings: new ConnectionSettings({ autoSubscribe }),
  });
  const wrapped = new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.NONE, joinRequest: join.toBinary() });
  return Buffer.from(wrapped.toBinary()).toString('base64url');
}

async function rawSession(identity, roomName, grant = {}) {
  const token = await devToken(identity, roomName, grant);
  const ws = new WebSocket(`${media.url}/rtc/v1?access_token=${token}&join_request=${joinParam()}`);
  const messages = [];
  ws.on('message', (data) => {
    const bytes = new Uint8Array(data);
    messages.push({ bytes, message: SignalResponse.fromBinary(bytes).message });
  });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const find = (kind) => messages.filter((m) => m.message.case === kind).map((m) => m.message.value);
  const send = (message) => ws.send(new SignalRequest({ message }).toBinary());
  return { ws, messages, find, send, close: () => ws.close() };
}

function addTrack(cid, source) {
  return { case: 'addTrack', value: new AddTrackRequest({ cid, name: cid, type: TrackType.AUDIO, source }) };
}

const webhookEvents = async () => {
  const receiver = new WebhookReceiver(devKey, devSecret);
  return Promise.all(sink.received.map((r) => receiver.receive(r.body, r.headers.authorization)));
};

test('UpdateParticipant revoking canPublish unpublishes at once and refuses republishing', async () => {
  const roomName = uniqueRoom('perm');
  const visitor = new Room();
  const resident = new Room();
  const gone = [];
  resident.on(RoomEvent.TrackUnpublished, (p, who) => gone.push({ sid: p.sid, who: who.identity }));
  const published = [];
  resident.on(RoomEvent.TrackPublished, (p, who) => published.push({ sid: p.sid, who: who.identity }));
  await resident.connect(media.url, await devToken('resident', roomName), { autoSubscribe: true, dynacast: false });
  await visitor.connect(media.url, await devToken('visitor', roomName), { autoSubscribe: true, dynacast: false });
  const pub = await publishMedia(visitor, { video: false });
  // A raw client of the same room, to see the refusal of its own AddTrackRequest.
  const raw = await rawSession('kiosk', roomName);
  let again;
  try {
    await waitFor(() => published.some((p) => p.sid === pub.audioPub.sid), { timeoutMs: 10000, what: 'the mic published' });

    const info = await rooms.updateParticipant(roomName, 'visitor', {
      permission: { canPublish: false, canSubscribe: true, canPublishData: true },
    });
    assert.equal(info.permission.canPublish, false);
    assert.equal(info.tracks.length, 0, 'its tracks are gone at once');
    await waitFor(() => gone.some((g) => g.sid === pub.audioPub.sid && g.who === 'visitor'),
      { timeoutMs: 5000, what: 'the resident sees the mic unpublished' });
    await waitFor(async () => (await webhookEvents()).some((e) => e.event === 'track_unpublished' && e.track?.sid === pub.audioPub.sid),
      { timeoutMs: 5000, intervalMs: 100, what: 'the track_unpublished webhook' });

    // Republishing is refused (raw client: an SDK would not even ask); the participant itself
    // is told its new permission.
    await rooms.updateParticipant(roomName, 'kiosk', { permission: { canPublish: false, canSubscribe: true } });
    await waitFor(() => raw.find('update').some((u) => u.participants.some((p) => p.identity === 'kiosk' && p.permission?.canPublish === false)),
      { timeoutMs: 5000, what: 'the kiosk learns its new permission' });
    raw.send(addTrack('mic-again', ProtoSource.MICROPHONE));
    const refused = await waitFor(() => raw.find('requestResponse').find((r) => r.request?.value?.cid === 'mic-again'),
      { timeoutMs: 5000, what: 'the AddTrackRequest answered' });
    assert.equal(refused.reason, RequestResponse_Reason.NOT_ALLOWED);
    assert.equal(raw.find('trackPublished').length, 0);

    // canPublishSources narrowed to the camera: a microphone is refused, a camera is not.
    await rooms.updateParticipant(roomName, 'kiosk', {
      permission: { canPublish: true, canSubscribe: true, canPublishSources: [ProtoSource.CAMERA] },
    });
    raw.send(addTrack('mic-3', ProtoSource.MICROPHONE));
    raw.send({ case: 'addTrack', value: new AddTrackRequest({ cid: 'cam-3', name: 'cam', type: TrackType.VIDEO, source: ProtoSource.CAMERA }) });
    await waitFor(() => raw.find('trackPublished').some((t) => t.cid === 'cam-3'), { timeoutMs: 5000, what: 'the camera accepted' });
    const mic3 = await waitFor(() => raw.find('requestResponse').find((r) => r.request?.value?.cid === 'mic-3'),
      { timeoutMs: 5000, what: 'the microphone refused' });
    assert.equal(mic3.reason, RequestResponse_Reason.NOT_ALLOWED);

    // Granted again, the visitor publishes and the resident receives it.
    await rooms.updateParticipant(roomName, 'visitor', {
      permission: { canPublish: true, canSubscribe: true, canPublishData: true },
    });
    again = await publishMedia(visitor, { video: false });
    await waitFor(() => published.some((p) => p.sid === again.audioPub.sid), { timeoutMs: 10000, what: 'the new mic published' });
    const listed = await rooms.getParticipant(roomName, 'visitor');
    assert.deepEqual(listed.tracks.map((t) => t.sid), [again.audioPub.sid]);
  } finally {
    pub.stop();
    again?.stop();
    raw.close();
    await visitor.disconnect();
    await resident.disconnect();
  }
});

test('a hidden monitor is invisible to every other client and still receives their media', async () => {
  const roomName = uniqueRoom('hidden');
  const observer = await rawSession('observer', roomName);
  const visitor = new Room();
  const monitor = new Room();
  const monitorCounts = countMedia(monitor);
  await visitor.connect(media.url, await devToken('visitor', roomName), { autoSubscribe: true, dynacast: true });
  const pub = await publishMedia(visitor);
  let hiddenRaw;
  let probe;
  try {
    await monitor.connect(media.url, await devToken('staff-monitor', roomName, {
      hidden: true, canPublish: false, canPublishData: false, canSubscribe: true,
    }), { autoSubscribe: true, dynacast: true });
    const monitorSid = monitor.localParticipant.sid;
    assert.ok(monitorSid);
    // The monitor receives the visitor's media.
    await waitAdvancing(() => monitorCounts.loudAudio, 'the tone at the monitor');
    await waitAdvancing(() => monitorCounts.videoFrames, 'video at the monitor');

    // A hidden participant may not publish, media or data.
    hiddenRaw = await rawSession('staff-monitor-2', roomName, { hidden: true });
    hiddenRaw.send(addTrack('hidden-mic', ProtoSource.MICROPHONE));
    const refused = await waitFor(() => hiddenRaw.find('requestResponse').find((r) => r.request?.value?.cid === 'hidden-mic'),
      { timeoutMs: 5000, what: 'the hidden AddTrackRequest answered' });
    assert.equal(refused.reason, RequestResponse_Reason.NOT_ALLOWED);

    // A visible probe joins after the monitors: once the observer has the probe's first
    // connection quality, the room's quality round has covered the monitors too.
    probe = await rawSession('probe', roomName);
    const probeSid = await waitFor(() => probe.find('join')[0]?.participant.sid, { what: 'the probe joined' });
    await waitFor(() => observer.find('connectionQuality').some((q) => q.updates.some((u) => u.participantSid === probeSid)),
      { timeoutMs: 15000, intervalMs: 100, what: "the probe's connection quality at the observer" });

    // Room updates and the count the server reports leave the monitors out.
    await rooms.updateRoomMetadata(roomName, 'checked');
    await waitFor(() => observer.find('roomUpdate').length > 0, { timeoutMs: 5000, what: 'a room update' });
    const [listedRoom] = await rooms.listRooms([roomName]);
    assert.equal(listedRoom.numParticipants, 3, 'ListRooms counts the observer, the visitor and the probe');
    assert.equal(observer.find('join')[0].room.numParticipants, 1);
    for (const u of observer.find('roomUpdate')) assert.equal(u.room.numParticipants, 3);

    const hiddenSid = hiddenRaw.find('join')[0].participant.sid;
    const needles = ['staff-monitor', 'staff-monitor-2', monitorSid, hiddenSid].map((s) => Buffer.from(s));
    for (const session of [observer, probe]) {
      for (const { bytes, message } of session.messages) {
        for (const needle of needles) {
          assert.equal(Buffer.from(bytes).indexOf(needle), -1, `${message.case} mentions ${needle}`);
        }
      }
    }
    assert.ok(observer.find('update').length > 0, 'the observer did get participant updates (visitor, probe)');
    assert.ok(observer.find('connectionQuality').length > 0);
    // The SDK participant sees only the observer and the probe.
    assert.deepEqual([...visitor.remoteParticipants.values()].map((p) => p.identity).sort(), ['observer', 'probe']);

    // UpdateParticipant can reveal a hidden participant and hide it again: the others see it
    // arrive, then leave, and the count follows.
    const seen = (state) => observer.find('update').some((u) => u.participants.some((p) => p.identity === 'staff-monitor-2' && p.state === state));
    await rooms.updateParticipant(roomName, 'staff-monitor-2', { permission: { hidden: false, canSubscribe: true } });
    await waitFor(() => seen(ParticipantInfo_State.JOINED), { timeoutMs: 5000, what: 'the revealed participant seen' });
    assert.equal((await rooms.listRooms([roomName]))[0].numParticipants, 4);
    await rooms.updateParticipant(roomName, 'staff-monitor-2', { permission: { hidden: true, canSubscribe: true } });
    await waitFor(() => seen(ParticipantInfo_State.DISCONNECTED), { timeoutMs: 5000, what: 'the hidden-again participant gone' });
    assert.equal((await rooms.listRooms([roomName]))[0].numParticipants, 3);
  } finally {
    pub.stop();
    hiddenRaw?.close();
    probe?.close();
    observer.close();
    await monitor.disconnect();
    await visitor.disconnect();
  }
});
