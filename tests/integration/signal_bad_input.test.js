// Bad input on the signaling path (spec §2.2, §2.4): refused upgrades get plain HTTP statuses;
// inside a session, malformed frames are dropped, a bad SDP offer and forbidden or excess
// publications get a clear request_response, and the session (and room) go on answering pings.
// This test speaks the wire protocol directly with the official @livekit/protocol messages,
// because the SDKs never send such input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  SignalRequest, SignalResponse, JoinRequest, WrappedJoinRequest, WrappedJoinRequest_Compression,
  ClientInfo, ClientInfo_SDK, ConnectionSettings, AddTrackRequest, TrackType, TrackSource, Ping,
  SessionDescription, RequestResponse_Reason,
} from '@livekit/protocol';
import { startMedia, devKey, devSecret } from '../lib/media.js';
import { devToken } from '../lib/livekit-page.js';

let media;

before(async () => {
  media = await startMedia({ config: `development: true\nkeys:\n  ${devKey}: ${devSecret}\nlimit:\n  num_tracks: 2\n` });
});

after(async () => {
  assert.equal(await media?.stop(), 0, 'server exits cleanly');
});

function joinParam(join = new JoinRequest({
  clientInfo: new ClientInfo({ sdk: ClientInfo_SDK.JS, protocol: 16 }),
  connectionSettings: new ConnectionSettings({ autoSubscribe: true }),
})) {
  const wrapped = new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.NONE, joinRequest: join.toBinary() });
  return Buffer.from(wrapped.toBinary()).toString('base64url');
}

function upgradeStatus(query) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${media.url}/rtc/v1?${query}`);
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('open', () => { ws.close(); resolve({ status: 101 }); });
    ws.on('error', () => {});
  });
}

// An open session: messages arrive in `inbox`; next(kind) waits for the next one of that case.
async function session(identity, room, grant = {}) {
  const token = await devToken(identity, room, grant);
  const ws = new WebSocket(`${media.url}/rtc/v1?access_token=${token}&join_request=${joinParam()}`);
  const inbox = [];
  const waiters = [];
  ws.on('message', (data) => {
    const msg = SignalResponse.fromBinary(new Uint8Array(data));
    inbox.push(msg.message);
    for (const w of [...waiters]) w();
  });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const next = (kind, timeoutMs = 5000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${kind} within ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      const i = inbox.findIndex((m) => m.case === kind);
      if (i < 0) return;
      clearTimeout(timer);
      waiters.splice(waiters.indexOf(check), 1);
      resolve(inbox.splice(i, 1)[0].value);
    };
    waiters.push(check);
    check();
  });
  const send = (message) => ws.send(new SignalRequest({ message }).toBinary());
  const alive = async () => {
    const ts = BigInt(Date.now());
    send({ case: 'pingReq', value: new Ping({ timestamp: ts }) });
    const pong = await next('pongResp');
    assert.equal(pong.lastPingTimestamp, ts);
  };
  return { ws, next, send, alive };
}

test('refused upgrades are plain HTTP statuses with a reason', async () => {
  const token = await devToken('u', 'bad-upgrades');
  let r = await upgradeStatus(`access_token=${token}`);
  assert.equal(r.status, 400);
  assert.match(r.body, /join_request/);
  r = await upgradeStatus(`access_token=${token}&join_request=%%%not-base64`);
  assert.equal(r.status, 400);
  r = await upgradeStatus(`access_token=${token}&join_request=${Buffer.from('garbage-bytes').toString('base64url')}`);
  assert.equal(r.status, 400);
  r = await upgradeStatus(`access_token=not.a.jwt&join_request=${joinParam()}`);
  assert.equal(r.status, 401);
  const gz = new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.GZIP, joinRequest: new Uint8Array([1, 2, 3]) });
  r = await upgradeStatus(`access_token=${token}&join_request=${Buffer.from(gz.toBinary()).toString('base64url')}`);
  assert.equal(r.status, 400);
  assert.match(r.body, /gzip/);
});

test('a full room refuses another participant with a clear status', async () => {
  const { RoomServiceClient } = await import('livekit-server-sdk');
  const rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
  await rooms.createRoom({ name: 'tiny', maxParticipants: 1 });
  const first = await session('first', 'tiny');
  await first.next('join');
  const r = await upgradeStatus(`access_token=${await devToken('second', 'tiny')}&join_request=${joinParam()}`);
  assert.equal(r.status, 403);
  assert.match(r.body, /full/);
  await first.alive();
  first.ws.close();
});

test('a second join with the same identity replaces the first session (a page reload)', async () => {
  const { RoomServiceClient } = await import('livekit-server-sdk');
  const { DisconnectReason } = await import('@livekit/protocol');
  const rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
  const first = await session('reloader', 'reload-room');
  const firstSid = (await first.next('join')).participant.sid;
  const second = await session('reloader', 'reload-room');
  const secondSid = (await second.next('join')).participant.sid;
  assert.notEqual(secondSid, firstSid);
  const leave = await first.next('leave');
  assert.equal(leave.reason, DisconnectReason.DUPLICATE_IDENTITY);
  const listed = await rooms.listParticipants('reload-room');
  assert.deepEqual(listed.map((p) => p.sid), [secondSid]);
  await second.alive();
  first.ws.close();
  second.ws.close();
});

test('malformed frames, bad SDP and forbidden or excess tracks get clear errors; the session goes on', async () => {
  const s = await session('tester', 'bad-signal');
  const join = await s.next('join');
  assert.equal(join.participant.identity, 'tester');
  assert.ok(join.pingInterval > 0 && join.pingTimeout > 0);
  assert.ok(join.serverInfo.version.length > 0);

  s.ws.send(Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]));  // not a SignalRequest
  s.ws.send(Buffer.alloc(0));
  await s.alive();

  s.send({ case: 'offer', value: new SessionDescription({ type: 'offer', sdp: 'this is not SDP', id: 1 }) });
  const bad = await s.next('requestResponse');
  assert.equal(bad.reason, RequestResponse_Reason.INVALID_REQUEST);
  assert.match(bad.message, /SDP/);
  await s.alive();

  // limit.num_tracks = 2: the third is refused.
  for (const cid of ['a', 'b', 'c']) {
    s.send({ case: 'addTrack', value: new AddTrackRequest({ cid, name: cid, type: TrackType.AUDIO, source: TrackSource.MICROPHONE }) });
  }
  assert.equal((await s.next('trackPublished')).cid, 'a');
  assert.equal((await s.next('trackPublished')).cid, 'b');
  const limited = await s.next('requestResponse');
  assert.equal(limited.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  await s.alive();

  // No canPublish: refused, the session continues.
  const viewer = await session('viewer', 'bad-signal', { canPublish: false });
  await viewer.next('join');
  viewer.send({ case: 'addTrack', value: new AddTrackRequest({ cid: 'v', name: 'cam', type: TrackType.VIDEO, source: TrackSource.CAMERA }) });
  const refused = await viewer.next('requestResponse');
  assert.equal(refused.reason, RequestResponse_Reason.NOT_ALLOWED);
  await viewer.alive();
  // The other participant still sees the viewer arrive (the room goes on).
  const update = await s.next('update');
  assert.ok(update.participants.some((p) => p.identity === 'viewer'));

  viewer.ws.close();
  s.ws.close();
});
