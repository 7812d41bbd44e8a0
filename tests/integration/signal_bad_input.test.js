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
  SessionDescription, RequestResponse_Reason, DisconnectReason, LeaveRequest_Action,
} from '@livekit/protocol';
import { gzipSync } from 'node:zlib';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
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
}), { gzip = false } = {}) {
  const body = join.toBinary();
  const wrapped = gzip
    ? new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.GZIP, joinRequest: gzipSync(body) })
    : new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.NONE, joinRequest: body });
  return Buffer.from(wrapped.toBinary()).toString('base64url');
}

// A join request whose publisher offer carries `sdp` (what /rtc/v1 clients send, spec §4.1).
function joinWithOffer(sdp, options) {
  return joinParam(new JoinRequest({
    clientInfo: new ClientInfo({ sdk: ClientInfo_SDK.JS, protocol: 16 }),
    connectionSettings: new ConnectionSettings({ autoSubscribe: true }),
    publisherOffer: new SessionDescription({ type: 'offer', sdp, id: 1 }),
  }), options);
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
async function session(identity, room, grant = {}, join = joinParam()) {
  const token = await devToken(identity, room, grant);
  const ws = new WebSocket(`${media.url}/rtc/v1?access_token=${token}&join_request=${join}`);
  const inbox = [];
  const waiters = [];
  const closed = new Promise((r) => ws.once('close', (code) => r(code)));
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
  return { ws, next, send, alive, closed, inbox };
}

// A browser-like offer (audio + video, receive only); without `videoFingerprint` the video
// section lacks its a=fingerprint (and there is none at session level).
function offerSdp({ videoFingerprint = true } = {}) {
  const fp = 'a=fingerprint:sha-256 6C:D8:DD:BC:53:D2:E2:D9:2D:C5:81:5E:28:C0:F6:DB:6D:45:62:1D:67:1C:6B:6C:1B:B0:89:43:A9:17:C3:45\r\n';
  const ice = 'a=ice-ufrag:cNi0\r\na=ice-pwd:k4n7eCxGSTUw+Y3R97Ii4WXs\r\na=setup:actpass\r\n';
  return 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n'
    + `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n${ice}${fp}a=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n`
    + `m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n${ice}${videoFingerprint ? fp : ''}a=mid:1\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n`;
}

// The hostile offers of issue 10, each with what the error must mention.
const badOffers = [
  { name: 'garbage', sdp: 'v=0\r\ngarbage', why: /invalid SDP offer/ },
  { name: 'empty', sdp: '', why: /SDP is empty/ },
  { name: '70 kB blob', sdp: 'x'.repeat(70 * 1024), why: /invalid SDP offer/, gzip: true },
  { name: 'no video fingerprint', sdp: offerSdp({ videoFingerprint: false }), why: /fingerprint/ },
];

async function caughtCount(boundary) {
  const text = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`parlor_exceptions_caught_total\\{boundary="${boundary}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
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

test('a join whose publisher offer is unusable ends only that session, the LiveKit way', async () => {
  const elsewhere = await session('elsewhere', 'other-room');
  await elsewhere.next('join');
  const peer = await session('peer', 'hostile-room');
  await peer.next('join');
  const caughtBefore = await caughtCount('ws_open');
  let ts = 0;
  for (const bad of badOffers) {
    const m = await session(`mallory-${ts}`, 'hostile-room', {}, joinWithOffer(bad.sdp, { gzip: bad.gzip }));
    await m.next('join');
    const error = await m.next('requestResponse');
    assert.equal(error.reason, RequestResponse_Reason.INVALID_REQUEST, bad.name);
    assert.match(error.message, bad.why, bad.name);
    const leave = await m.next('leave');
    assert.equal(leave.reason, DisconnectReason.STATE_MISMATCH, bad.name);
    assert.equal(leave.action, LeaveRequest_Action.RECONNECT, bad.name);
    assert.equal(leave.canReconnect, true, bad.name);
    await m.closed;
    // Everyone else carries on: the same room, another room.
    await peer.alive();
    await elsewhere.alive();
    ts++;
  }
  // Nobody in the room heard of the failed sessions, and they are not listed.
  const { RoomServiceClient } = await import('livekit-server-sdk');
  const rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
  assert.deepEqual((await rooms.listParticipants('hostile-room')).map((p) => p.identity), ['peer']);
  assert.ok(!peer.inbox.some((m) => m.case === 'update' && m.value.participants.some((p) => p.identity.startsWith('mallory'))));
  assert.equal(await caughtCount('ws_open'), caughtBefore + badOffers.length);

  // A good join afterwards works, with an offer, and the peer hears of it.
  const late = await session('late', 'hostile-room', {}, joinWithOffer(offerSdp()));
  await late.next('join');
  const answer = await late.next('answer');
  assert.match(answer.sdp, /a=fingerprint/);
  await late.alive();
  await waitFor(() => peer.inbox.some((m) => m.case === 'update' && m.value.participants.some((p) => p.identity === 'late')),
    { what: 'peer told of the late joiner' });
  for (const s of [elsewhere, peer, late]) s.ws.close();
});

test('an uncompressed 70 kB offer is refused at the upgrade and the server goes on', async () => {
  const token = await devToken('big', 'big-room');
  const r = await upgradeStatus(`access_token=${token}&join_request=${joinWithOffer('v=0\r\n' + 'a=x\r\n'.repeat(12000))}`);
  assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
  const s = await session('after-big', 'big-room');
  await s.next('join');
  await s.alive();
  s.ws.close();
});

test('the same bad offers sent later get a request_response error; the sessions go on', async () => {
  const elsewhere = await session('elsewhere2', 'other-room-2');
  await elsewhere.next('join');
  const peer = await session('peer2', 'later-room');
  await peer.next('join');
  const s = await session('offerer', 'later-room');
  await s.next('join');
  const caughtBefore = await caughtCount('ws_message');
  for (const bad of badOffers) {
    s.send({ case: 'offer', value: new SessionDescription({ type: 'offer', sdp: bad.sdp, id: 7 }) });
    const error = await s.next('requestResponse');
    assert.equal(error.reason, RequestResponse_Reason.INVALID_REQUEST, bad.name);
    assert.match(error.message, bad.why, bad.name);
    await s.alive();
    await peer.alive();
    await elsewhere.alive();
  }
  assert.ok(!s.inbox.some((m) => m.case === 'leave'));
  assert.equal(await caughtCount('ws_message'), caughtBefore + badOffers.length);
  // The session still negotiates: a good offer is answered.
  s.send({ case: 'offer', value: new SessionDescription({ type: 'offer', sdp: offerSdp(), id: 8 }) });
  await s.next('answer');
  // And a new join afterwards succeeds.
  const late = await session('late2', 'later-room');
  await late.next('join');
  await late.alive();
  for (const x of [elsewhere, peer, s, late]) x.ws.close();
});

test('Twirp requests quoting bytes that are not UTF-8 get a Twirp error, not a crash or plain text', async () => {
  const { AccessToken } = await import('livekit-server-sdk');
  const at = new AccessToken(devKey, devSecret, { identity: 'admin' });
  at.addGrant({ roomList: true, roomCreate: true });
  const auth = `Bearer ${await at.toJwt()}`;
  const post = (path, headers = {}) => fetch(`${media.httpUrl}${path}`, {
    method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json', ...headers }, body: '{}',
  });
  // The method name is echoed in the error; %FF decodes to a byte that is not UTF-8.
  for (const path of ['/twirp/livekit.RoomService/%FF%FE', '/twirp/nope%FF/Method']) {
    const r = await post(path);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.get('content-type'), 'application/json');
    const body = await r.json();
    assert.equal(body.code, 'bad_route');
  }
  // An unexpected Content-Type with such bytes is quoted too.
  const r = await post('/twirp/livekit.RoomService/ListRooms', { 'Content-Type': Buffer.from([0x61, 0xff]).toString('latin1') });
  assert.equal((await r.json()).code, 'bad_route');
  // The server goes on.
  const ok = await post('/twirp/livekit.RoomService/ListRooms');
  assert.equal(ok.status, 200);
  assert.equal(await caughtCount('http'), 0);
});
