// Subscription permissions (issue 11): a publisher's setTrackSubscriptionPermissions decides who
// receives its tracks. P publishes a tone and allows only A: A receives it, B is told
// allowed:false (SubscriptionPermissionUpdate, what livekit-client turns into
// RoomEvent.TrackSubscriptionPermissionChanged) and receives nothing; P allows everyone: B is told
// allowed:true and receives the tone.
// All three are @livekit/rtc-node. rtc-node 1.x has no JS wrapper for the permission request, so
// P sends it through the SDK's own FFI request (as moderation_enforced does for mute), and it
// surfaces no permission event, so B's signaling runs through a WebSocket proxy that reads what
// the server sends it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';
import {
  Room, RoomEvent, AudioSource, AudioFrame, LocalAudioTrack, TrackPublishOptions, TrackSource, TrackKind,
  AudioStream, dispose,
} from '@livekit/rtc-node';
import { SignalResponse } from '@livekit/protocol';
import { createRequire } from 'node:module';
import { startMedia, waitFor } from '../lib/media.js';
import { devToken } from '../lib/livekit-page.js';

// The FFI message classes from the very module instance rtc-node itself loads.
const { SetTrackSubscriptionPermissionsRequest, ParticipantTrackPermission } =
  createRequire(import.meta.url)('@livekit/rtc-ffi-bindings');

let media;

before(async () => {
  media = await startMedia();
});

after(async () => {
  await media?.stop();
  await dispose();
});

// A WebSocket proxy to the media server that decodes every SignalResponse it passes on.
async function startSignalTap(targetPort) {
  const responses = [];
  const sockets = new Set();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (client, req) => {
    // The SDK may carry its token in the Authorization header rather than the query.
    const headers = req.headers.authorization ? { authorization: req.headers.authorization } : {};
    const upstream = new WebSocket(`ws://127.0.0.1:${targetPort}${req.url}`, { headers });
    sockets.add(client);
    sockets.add(upstream);
    const pending = [];
    client.on('message', (data, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else pending.push([data, isBinary]);
    });
    upstream.on('open', () => {
      for (const [data, isBinary] of pending) upstream.send(data, { binary: isBinary });
    });
    upstream.on('message', (data, isBinary) => {
      if (isBinary) {
        try { responses.push(SignalResponse.fromBinary(new Uint8Array(data))); } catch { /* not ours to judge */ }
      }
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    const closeBoth = () => { client.close(); upstream.close(); };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  await new Promise((r) => server.once('listening', r));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    permissionUpdates: () => responses
      .filter((r) => r.message.case === 'subscriptionPermissionUpdate')
      .map((r) => r.message.value),
    async close() {
      for (const s of sockets) s.terminate();
      await new Promise((r) => server.close(r));
    },
  };
}

// A 440 Hz tone on a microphone track, fed until stop().
async function publishTone(room) {
  const source = new AudioSource(48000, 1);
  const track = LocalAudioTrack.createAudioTrack('mic', source);
  const o = new TrackPublishOptions();
  o.source = TrackSource.SOURCE_MICROPHONE;
  const publication = await room.localParticipant.publishTrack(track, o);
  const state = { stopped: false };
  const samples = new Int16Array(480);
  (async () => {
    let n = 0;
    while (!state.stopped) {
      for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((n++ * 2 * Math.PI * 440) / 48000));
      await source.captureFrame(new AudioFrame(samples, 48000, 1, 480));
    }
  })();
  return { publication, stop: () => { state.stopped = true; } };
}

// Audio frames with the tone in them, per receiving room, and what it is subscribed to.
function watch(room) {
  const w = { loud: 0, subscribed: new Set(), failed: [] };
  room.on(RoomEvent.TrackSubscribed, async (track, publication) => {
    w.subscribed.add(publication.sid);
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    for await (const frame of new AudioStream(track)) {
      let sum = 0;
      for (const s of frame.data) sum += s * s;
      if (Math.sqrt(sum / frame.data.length) > 1000) w.loud++;
    }
  });
  room.on(RoomEvent.TrackUnsubscribed, (_track, publication) => w.subscribed.delete(publication.sid));
  room.on(RoomEvent.TrackSubscriptionFailed, (sid) => w.failed.push(sid));
  return w;
}

// LocalParticipant.setTrackSubscriptionPermissions, through the SDK's FFI request.
async function setPermissions(room, allParticipantsAllowed, allowed = []) {
  const value = new SetTrackSubscriptionPermissionsRequest({
    localParticipantHandle: room.localParticipant.ffi_handle.handle,
    allParticipantsAllowed,
    permissions: allowed.map((identity) => new ParticipantTrackPermission({ participantIdentity: identity, allowAll: true })),
  });
  globalThis._ffiClientInstance.request({ message: { case: 'setTrackSubscriptionPermissions', value } });
}

test('a publisher allows only A: B is refused and told, until everyone is allowed', async () => {
  const roomName = `perm-${Math.random().toString(36).slice(2, 8)}`;
  const tap = await startSignalTap(media.port);
  const p = new Room();
  const a = new Room();
  const b = new Room();
  const atA = watch(a);
  const atB = watch(b);
  let tone;
  try {
    await p.connect(media.url, await devToken('P', roomName), { autoSubscribe: false, dynacast: false });
    tone = await publishTone(p);
    const trackSid = tone.publication.sid;
    setPermissions(p, false, ['A']);

    await a.connect(media.url, await devToken('A', roomName), { autoSubscribe: true, dynacast: false });
    await b.connect(tap.url, await devToken('B', roomName), { autoSubscribe: true, dynacast: false });

    // B is told it may not receive the track (whether it joined before or after P's request
    // reached the server: revoked or refused, the last word is allowed:false).
    await waitFor(() => {
      const u = tap.permissionUpdates().filter((x) => x.trackSid === trackSid);
      return u.length > 0 && u.at(-1).allowed === false;
    }, { timeoutMs: 15000, what: 'SubscriptionPermissionUpdate{allowed:false} at B' });
    const refused = tap.permissionUpdates().filter((x) => x.trackSid === trackSid).at(-1);
    assert.equal(refused.participantSid, p.localParticipant.sid);
    await waitFor(() => !atB.subscribed.has(trackSid), { timeoutMs: 15000, what: 'B not subscribed' });

    // A receives the tone; meanwhile B receives none of it.
    await waitFor(() => atA.loud >= 50, { timeoutMs: 15000, what: 'the tone at A' });
    const loudAtB = atB.loud;
    await waitFor(() => atA.loud >= 150, { timeoutMs: 15000, what: 'more of the tone at A' });
    assert.equal(atB.loud, loudAtB, 'B received audio it is not allowed');
    assert.ok(!atB.subscribed.has(trackSid));

    // Everyone allowed: B is told and subscribed, and the tone arrives.
    setPermissions(p, true);
    await waitFor(() => tap.permissionUpdates().filter((x) => x.trackSid === trackSid).at(-1)?.allowed === true,
      { timeoutMs: 15000, what: 'SubscriptionPermissionUpdate{allowed:true} at B' });
    await waitFor(() => atB.subscribed.has(trackSid), { timeoutMs: 15000, what: 'B subscribed' });
    const before = atB.loud;
    await waitFor(() => atB.loud >= before + 50, { timeoutMs: 15000, what: 'the tone at B' });
  } finally {
    tone?.stop();
    await Promise.all([p, a, b].map((r) => r.disconnect().catch(() => {})));
    await tap.close();
  }
});
