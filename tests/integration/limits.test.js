// Hostile participants (issue 10): every resource a participant can grow is bounded, refused in a
// way the LiveKit clients understand, counted in /metrics, and given back when it leaves. Each
// test also proves that a well-behaved participant in the same room is unaffected.
// Signaling is spoken over a raw WebSocket with the official @livekit/protocol messages (the SDKs
// never send such input); data goes through @livekit/rtc-node.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import {
  SignalRequest, SignalResponse, JoinRequest, WrappedJoinRequest, WrappedJoinRequest_Compression,
  ClientInfo, ClientInfo_SDK, ConnectionSettings, AddTrackRequest, TrackType, TrackSource, Ping,
  RequestResponse_Reason, UpdateParticipantMetadata, LeaveRequest, VideoLayer, DisconnectReason, ParticipantInfo_State,
} from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import { Room, RoomEvent, dispose } from '@livekit/rtc-node';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { devToken } from '../lib/livekit-page.js';

const servers = [];
const sockets = [];  // every WebSocket a test opened, closed even when the test failed midway
after(async () => {
  for (const ws of sockets) ws.terminate();
  for (const s of servers) assert.equal(await s.stop(), 0, 'server exits cleanly');
  await dispose();
});

// A small ASan quarantine, so RSS shows what the server holds rather than freed memory ASan
// keeps poisoned for a while (256 MiB by default).
const asanEnv = { ASAN_OPTIONS: 'detect_leaks=0:quarantine_size_mb=8' };

async function start(limits = '') {
  const media = await startMedia({
    config: `development: true\nkeys:\n  ${devKey}: ${devSecret}\n${limits ? `limit:\n${limits}` : ''}`,
    env: asanEnv,
  });
  servers.push(media);
  return media;
}

function rssKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]);
}

async function metric(media, name) {
  const text = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

function joinParam(join = {}) {
  const request = new JoinRequest({
    clientInfo: new ClientInfo({ sdk: ClientInfo_SDK.JS, protocol: 16 }),
    connectionSettings: new ConnectionSettings({ autoSubscribe: true }),
    ...join,
  });
  const wrapped = new WrappedJoinRequest({ compression: WrappedJoinRequest_Compression.NONE, joinRequest: request.toBinary() });
  return Buffer.from(wrapped.toBinary()).toString('base64url');
}

function upgrade(media, token, join) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${media.url}/rtc/v1?access_token=${token}&join_request=${joinParam(join)}`);
    // The JoinResponse can arrive in the same read as the 101: keep messages until a session listens.
    sockets.push(ws);
    ws.early = [];
    ws.on('message', (data) => ws.early?.push(data));
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('error', () => {});
  });
}

// An open session: messages arrive in `inbox`; next(kind) waits for the next one of that case.
async function session(media, identity, room, { grant = {}, join } = {}) {
  const r = await upgrade(media, await devToken(identity, room, grant), join);
  assert.equal(r.status, 101, `upgrade for ${identity}: ${r.body}`);
  const { ws } = r;
  const inbox = [];
  const waiters = [];
  let closed = false;
  ws.on('close', () => { closed = true; for (const w of [...waiters]) w(); });
  const receive = (data) => {
    inbox.push(SignalResponse.fromBinary(new Uint8Array(data)).message);
    for (const w of [...waiters]) w();
  };
  for (const data of ws.early) receive(data);
  ws.early = null;
  ws.on('message', receive);
  const next = (kind, timeoutMs = 5000, match = () => true) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${identity}: no ${kind} within ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      const i = inbox.findIndex((m) => m.case === kind && match(m.value));
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
    const ts = BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000));
    send({ case: 'pingReq', value: new Ping({ timestamp: ts }) });
    await next('pongResp', 5000, (p) => p.lastPingTimestamp === ts);
  };
  const join0 = await next('join');
  return { ws, inbox, next, send, alive, sid: join0.participant.sid, isClosed: () => closed };
}

const addTrack = (cid, name, extra = {}) => ({
  case: 'addTrack',
  value: new AddTrackRequest({ cid, name, type: TrackType.AUDIO, source: TrackSource.MICROPHONE, ...extra }),
});

test('an AddTrack flood (400 requests, 512 KiB names) is refused and the server does not grow', async () => {
  const media = await start();  // the defaults: this is what a production server does
  const good = await session(media, 'good', 'flood');
  const flooder = await session(media, 'flooder', 'flood');
  await flooder.alive();
  const base = rssKiB(media.proc.pid);
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(media.proc.pid)); }, 20);

  const name = 'n'.repeat(512 * 1024);
  for (let i = 0; i < 400; i++) flooder.send(addTrack(`flood-${i}`, name));
  // Every request the server reads is answered (refused); the signal rate limit drops, or if
  // the flood persists disconnects, what comes faster than it may.
  const answered = () => flooder.inbox.filter((m) => m.case === 'requestResponse' || m.case === 'trackPublished').length;
  await waitFor(() => flooder.isClosed() || answered() >= 150, { timeoutMs: 60000, intervalMs: 50, what: 'the flood answered' });
  await good.alive();
  const afterFlood = rssKiB(media.proc.pid);
  const refused = flooder.inbox.filter((m) => m.case === 'requestResponse').map((m) => m.value);
  const published = flooder.inbox.filter((m) => m.case === 'trackPublished').length;
  flooder.send({ case: 'leave', value: new LeaveRequest({ reason: DisconnectReason.CLIENT_INITIATED }) });
  await good.next('update', 20000, (x) => x.participants
    .some((p) => p.identity === 'flooder' && p.state === ParticipantInfo_State.DISCONNECTED));
  flooder.ws.close();
  await waitFor(async () => (await metric(media, 'parlor_ws_connections')) === 1, { what: 'the flooder connection closed' });
  const left = rssKiB(media.proc.pid);
  clearInterval(sampler);
  console.log(`flood RSS KiB: before ${base}, peak ${peak}, after flood ${afterFlood}, after leave ${left}; ` +
    `${refused.length} refused, ${published} published`);
  // Bound: 400 names of 512 KiB are 200 MiB; the server may hold no more than transient buffers.
  assert.ok(peak - base < 64 * 1024, `RSS grew ${(peak - base) >> 10} MiB during the flood`);
  assert.ok(left - base < 32 * 1024, `RSS grew ${(left - base) >> 10} MiB after the flooder left`);
  assert.equal(published, 0);
  assert.ok(refused.length > 0);
  for (const r of refused) {
    assert.equal(r.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
    assert.match(r.message, /name length/);
    assert.equal(r.request.value.name, '', 'the oversized name is not echoed back');
    assert.match(r.request.value.cid, /^flood-/);
  }
  assert.ok(await metric(media, 'parlor_limit_track_request_total') >= refused.length);

  // A pending request counts towards num_tracks (default 16), and the well-behaved participant
  // still publishes.
  for (let i = 0; i < 20; i++) good.send(addTrack(`t-${i}`, `track ${i}`));
  for (let i = 0; i < 16; i++) assert.equal((await good.next('trackPublished')).cid, `t-${i}`);
  const limited = await good.next('requestResponse');
  assert.equal(limited.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  assert.equal(limited.message, 'too many tracks');
  assert.ok(await metric(media, 'parlor_limit_num_tracks_total') >= 1);
  await good.alive();
  good.ws.close();
});

test('over-long track names, too many layers and oversized metadata or attributes are refused', async () => {
  const media = await start([
    '  max_track_name_length: 32', '  max_track_layers: 3', '  max_metadata_size: 100',
    '  max_attributes_size: 100', '  max_attributes_count: 3', ''].join('\n'));
  const grant = { canUpdateOwnMetadata: true };
  const good = await session(media, 'good', 'sizes', { grant });
  const bad = await session(media, 'bad', 'sizes', { grant });

  bad.send(addTrack('long', 'x'.repeat(33)));
  let r = await bad.next('requestResponse');
  assert.equal(r.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  assert.match(r.message, /track name length exceeds 32/);
  const layers = [0, 1, 2, 3].map((q) => new VideoLayer({ quality: q % 3, width: 160 * (q + 1), height: 90 * (q + 1) }));
  bad.send(addTrack('layers', 'cam', { type: TrackType.VIDEO, source: TrackSource.CAMERA, layers }));
  r = await bad.next('requestResponse');
  assert.equal(r.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  assert.match(r.message, /layer count/);

  const update = (requestId, fields) => bad.send({ case: 'updateMetadata', value: new UpdateParticipantMetadata({ requestId, ...fields }) });
  update(1, { metadata: 'm'.repeat(101) });
  r = await bad.next('requestResponse', 5000, (x) => x.requestId === 1);
  assert.equal(r.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  update(2, { attributes: { a: '1', b: '2', c: '3', d: '4' } });
  r = await bad.next('requestResponse', 5000, (x) => x.requestId === 2);
  assert.equal(r.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  assert.match(r.message, /attribute count/);
  update(3, { attributes: { big: 'v'.repeat(100) } });
  r = await bad.next('requestResponse', 5000, (x) => x.requestId === 3);
  assert.equal(r.reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  assert.match(r.message, /attributes size/);
  // Attributes accumulate over updates: the merged set is what is bounded.
  update(4, { attributes: { a: '1', b: '2' } });
  assert.equal((await bad.next('requestResponse', 5000, (x) => x.requestId === 4)).reason, RequestResponse_Reason.OK);
  update(5, { attributes: { c: '3', d: '4' } });
  assert.equal((await bad.next('requestResponse', 5000, (x) => x.requestId === 5)).reason, RequestResponse_Reason.LIMIT_EXCEEDED);
  assert.ok(await metric(media, 'parlor_limit_metadata_total') >= 4);
  assert.ok(await metric(media, 'parlor_limit_track_request_total') >= 2);

  // Too large at the join: from the token, or from the v1 JoinRequest; refused before the 101.
  const at = new AccessToken(devKey, devSecret, { identity: 'fat', metadata: 'm'.repeat(101) });
  at.addGrant({ roomJoin: true, room: 'sizes', canUpdateOwnMetadata: true });
  let u = await upgrade(media, await at.toJwt());
  assert.equal(u.status, 400);
  assert.match(u.body, /metadata size/);
  u = await upgrade(media, await devToken('fat2', 'sizes', grant), { metadata: 'm'.repeat(101) });
  assert.equal(u.status, 400);
  const attrs = new AccessToken(devKey, devSecret, { identity: 'fat3', attributes: { a: '1', b: '2', c: '3', d: '4' } });
  attrs.addGrant({ roomJoin: true, room: 'sizes' });
  u = await upgrade(media, await attrs.toJwt());
  assert.equal(u.status, 400);
  assert.ok(await metric(media, 'parlor_limit_join_metadata_total') >= 3);

  // The well-behaved participant saw the accepted update and goes on.
  await good.next('update', 5000, (x) => x.participants.some((p) => p.identity === 'bad' && p.attributes.b === '2'));
  good.send({ case: 'updateMetadata', value: new UpdateParticipantMetadata({ requestId: 9, metadata: 'fine' }) });
  assert.equal((await good.next('requestResponse', 5000, (x) => x.requestId === 9)).reason, RequestResponse_Reason.OK);
  good.send(addTrack('ok', 'microphone'));
  assert.equal((await good.next('trackPublished')).cid, 'ok');
  await bad.alive();
  bad.ws.close();
  good.ws.close();
});

test('a signal message flood disconnects only the flooder', async () => {
  const media = await start('  signal_messages_per_second: 20\n  signal_burst: 40\n');
  const good = await session(media, 'good', 'chatty');
  const flooder = await session(media, 'flooder', 'chatty');
  for (let i = 0; i < 500; i++) flooder.send({ case: 'ping', value: BigInt(i) });
  const leave = await flooder.next('leave', 10000);
  assert.equal(leave.reason, DisconnectReason.PARTICIPANT_REMOVED);
  assert.equal(leave.canReconnect, false);
  const pongs = flooder.inbox.filter((m) => m.case === 'pong').length;
  assert.ok(pongs >= 40 && pongs < 120, `${pongs} pings answered`);
  await waitFor(() => flooder.isClosed(), { timeoutMs: 5000, what: 'the flooder socket closed' });
  await good.next('update', 5000, (x) => x.participants.some((p) => p.identity === 'flooder' && p.state === ParticipantInfo_State.DISCONNECTED));
  // The well-behaved participant, pinging at its normal pace, is never refused.
  for (let i = 0; i < 5; i++) await good.alive();
  assert.ok(await metric(media, 'parlor_limit_signal_disconnects_total') >= 1);
  assert.ok(await metric(media, 'parlor_limit_signal_dropped_total') >= 40);
  good.ws.close();
});

test('data over the rate is dropped and counted; the room goes on', async () => {
  const media = await start('  data_packets_per_second: 20\n  data_bytes_per_second: 65536\n');
  const room = 'data-rate';
  const receiver = new Room();
  const flooder = new Room();
  const polite = new Room();
  const got = { flooder: 0, polite: 0, after: false };
  receiver.on(RoomEvent.DataReceived, (payload, p) => {
    const text = new TextDecoder().decode(payload);
    if (text === 'after the flood') got.after = true;
    else if (p?.identity in got) got[p.identity]++;
  });
  const opts = { autoSubscribe: true, dynacast: false };
  await receiver.connect(media.url, await devToken('receiver', room), opts);
  await flooder.connect(media.url, await devToken('flooder', room), opts);
  await polite.connect(media.url, await devToken('polite', room), opts);
  try {
    const payload = new Uint8Array(200).fill(7);
    // The data channel opens after the transport connects: the first packet that arrives proves it.
    await waitFor(async () => {
      await polite.localParticipant.publishData(new TextEncoder().encode('hello'), { reliable: true });
      return got.polite > 0;
    }, { timeoutMs: 15000, intervalMs: 300, what: 'data flowing' });
    await waitFor(async () => {
      await flooder.localParticipant.publishData(payload, { reliable: true });
      return got.flooder > 0;
    }, { timeoutMs: 15000, intervalMs: 300, what: 'flooder data flowing' });
    got.flooder = 0;
    got.polite = 0;
    await new Promise((r) => setTimeout(r, 1100));  // a full bucket for the flooder
    const floodStart = Date.now();
    for (let i = 0; i < 300; i++) await flooder.localParticipant.publishData(payload, { reliable: true });
    for (let i = 0; i < 5; i++) {
      await polite.localParticipant.publishData(new TextEncoder().encode(`p${i}`), { reliable: true });
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(() => got.polite === 5, { timeoutMs: 10000, what: 'all of the polite participant\'s data' });
    const seconds = (Date.now() - floodStart) / 1000;
    await waitFor(async () => (await metric(media, 'parlor_limit_data_dropped_total')) > 0, { what: 'drops counted' });
    assert.ok(got.flooder < 300, `${got.flooder} of 300 flooded packets delivered`);
    assert.ok(got.flooder <= 20 + 20 * seconds + 5, `${got.flooder} delivered in ${seconds} s`);
    // The room goes on: after a pause the flooder is heard again.
    await new Promise((r) => setTimeout(r, 1100));
    await flooder.localParticipant.publishData(new TextEncoder().encode('after the flood'), { reliable: true });
    await waitFor(() => got.after, { timeoutMs: 5000, what: 'data after the flood' });
  } finally {
    await Promise.all([receiver.disconnect(), flooder.disconnect(), polite.disconnect()]);
  }
});

test('WebSockets per address and per room are limited before the 101 and freed on close', async () => {
  const media = await start('  max_ws_connections_per_ip: 3\n  max_ws_connections_per_room: 2\n');
  const a = await session(media, 'a', 'small');
  const b = await session(media, 'b', 'small');
  // The room is at its limit: 403, and /rtc/validate tells the JS client why.
  let r = await upgrade(media, await devToken('c', 'small'));
  assert.equal(r.status, 403);
  assert.match(r.body, /room has too many connections/);
  const v = await fetch(`${media.httpUrl}/rtc/v1/validate?access_token=${await devToken('c', 'small')}&join_request=${joinParam()}`);
  assert.equal(v.status, 403);
  // This address is at its limit (3): 429.
  const other = await session(media, 'd', 'elsewhere');
  r = await upgrade(media, await devToken('e', 'third'));
  assert.equal(r.status, 429);
  assert.match(r.body, /too many connections from this address/);
  assert.equal(await metric(media, 'parlor_ws_connections'), 3);
  assert.ok(await metric(media, 'parlor_limit_ws_connections_per_ip_total') >= 1);
  assert.ok(await metric(media, 'parlor_limit_ws_connections_per_room_total') >= 1);
  await a.alive();
  await b.alive();

  // A closed connection gives its slot back (once): the next upgrade is accepted.
  b.ws.close();
  const c = await waitFor(async () => {
    const x = await upgrade(media, await devToken('c', 'small'));
    if (x.status === 101) return x;
    return null;
  }, { timeoutMs: 5000, intervalMs: 100, what: 'a freed slot' });
  c.ws.close();
  other.ws.close();
  await waitFor(async () => (await metric(media, 'parlor_ws_connections')) === 1, { what: 'slots released' });
  await a.alive();
  a.ws.close();
  await waitFor(async () => (await metric(media, 'parlor_ws_connections')) === 0, { what: 'all slots released' });
});
