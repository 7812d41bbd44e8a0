// RoomService over Twirp, driven by the official livekit-server-sdk against the real binary.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  RoomServiceClient, AccessToken, WebhookReceiver, DataPacket_Kind,
} from 'livekit-server-sdk';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { startWebhookSink } from '../lib/webhook-sink.js';

let media;
let sink;
let rooms;

before(async () => {
  sink = await startWebhookSink();
  media = await startMedia({
    config: `development: true\nkeys:\n  ${devKey}: ${devSecret}\nwebhook:\n  api_key: ${devKey}\n  urls:\n    - ${sink.url}\nroom:\n  empty_timeout: 1\n`,
  });
  rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
});

after(async () => {
  const code = await media?.stop();
  await sink?.close();
  assert.equal(code, 0, 'server exits cleanly on SIGTERM');
});

async function rawTwirp(method, body, { token, contentType = 'application/json' } = {}) {
  const headers = { 'Content-Type': contentType };
  if (token !== null) {
    const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
    at.addGrant({ roomCreate: true, roomList: true });
    headers.Authorization = `Bearer ${token ?? await at.toJwt()}`;
  }
  return fetch(`${media.httpUrl}/twirp/livekit.RoomService/${method}`, {
    method: 'POST', headers, body,
  });
}

describe('RoomService round trips', () => {
  test('CreateRoom returns the room and is idempotent', async () => {
    const room = await rooms.createRoom({ name: 'visit-1', emptyTimeout: 60, maxParticipants: 4, metadata: 'hello' });
    assert.equal(room.name, 'visit-1');
    assert.match(room.sid, /^RM_[A-Za-z0-9]{12}$/);
    assert.equal(room.emptyTimeout, 60);
    assert.equal(room.maxParticipants, 4);
    assert.equal(room.metadata, 'hello');
    assert.ok(room.creationTime > 0n);
    const again = await rooms.createRoom({ name: 'visit-1' });
    assert.equal(again.sid, room.sid);
  });

  test('ListRooms lists all and filters by name', async () => {
    await rooms.createRoom({ name: 'visit-2', emptyTimeout: 60 });
    const all = await rooms.listRooms();
    assert.deepEqual(all.map((r) => r.name).sort(), ['visit-1', 'visit-2']);
    const one = await rooms.listRooms(['visit-2', 'nope']);
    assert.deepEqual(one.map((r) => r.name), ['visit-2']);
  });

  test('UpdateRoomMetadata changes the metadata', async () => {
    const room = await rooms.updateRoomMetadata('visit-1', '{"resident":"A"}');
    assert.equal(room.metadata, '{"resident":"A"}');
    const [listed] = await rooms.listRooms(['visit-1']);
    assert.equal(listed.metadata, '{"resident":"A"}');
  });

  test('ListParticipants is empty for a room nobody joined', async () => {
    assert.deepEqual(await rooms.listParticipants('visit-1'), []);
  });

  test('participant methods answer not_found for unknown participants', async () => {
    const calls = [
      () => rooms.getParticipant('visit-1', 'alice'),
      () => rooms.removeParticipant('visit-1', 'alice'),
      () => rooms.mutePublishedTrack('visit-1', 'alice', 'TR_x', true),
      () => rooms.updateParticipant('visit-1', 'alice', { metadata: 'm' }),
      () => rooms.updateSubscriptions('visit-1', 'alice', ['TR_x'], true),
    ];
    for (const call of calls) {
      await assert.rejects(call, (e) => e.code === 'not_found' && e.status === 404);
    }
  });

  test('SendData to a room without participants succeeds', async () => {
    await rooms.sendData('visit-1', new TextEncoder().encode('hi'), DataPacket_Kind.RELIABLE, { topic: 'parlor' });
  });

  test('unknown rooms answer not_found', async () => {
    await assert.rejects(() => rooms.listParticipants('missing'), (e) => e.code === 'not_found');
    await assert.rejects(() => rooms.deleteRoom('missing'), (e) => e.code === 'not_found');
    await assert.rejects(() => rooms.updateRoomMetadata('missing', 'x'), (e) => e.code === 'not_found');
  });

  test('Forward/MoveParticipant are reported as unimplemented', async () => {
    await assert.rejects(() => rooms.moveParticipant('visit-1', 'a', 'visit-2'),
      (e) => e.code === 'unimplemented');
  });

  test('DeleteRoom removes the room', async () => {
    await rooms.deleteRoom('visit-2');
    assert.deepEqual((await rooms.listRooms(['visit-2'])), []);
  });
});

describe('authentication and permissions', () => {
  test('wrong secret is rejected with 401', async () => {
    const bad = new RoomServiceClient(media.httpUrl, devKey, 'not-the-secret');
    await assert.rejects(() => bad.listRooms(), (e) => e.status === 401);
  });

  test('unknown API key is rejected with 401', async () => {
    const bad = new RoomServiceClient(media.httpUrl, 'otherkey', devSecret);
    await assert.rejects(() => bad.listRooms(), (e) => e.status === 401);
  });

  test('a token without the needed grant is denied', async () => {
    const at = new AccessToken(devKey, devSecret, { identity: 'u' });
    at.addGrant({ roomJoin: true, room: 'visit-1' });
    const res = await rawTwirp('ListRooms', '{}', { token: await at.toJwt() });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const body = await res.json();
    assert.equal(body.code, 'unauthenticated');
    assert.match(body.msg, /permission/);
  });

  test('roomAdmin for another room is denied', async () => {
    const at = new AccessToken(devKey, devSecret);
    at.addGrant({ roomAdmin: true, room: 'other' });
    const res = await rawTwirp('ListParticipants', '{"room":"visit-1"}', { token: await at.toJwt() });
    assert.equal((await res.json()).code, 'unauthenticated');
  });

  test('no token at all is a 401', async () => {
    const res = await rawTwirp('ListRooms', '{}', { token: null });
    assert.equal(res.status, 401);
  });

  test('an expired token is a 401', async () => {
    const at = new AccessToken(devKey, devSecret, { ttl: 1 });
    at.addGrant({ roomList: true });
    const jwt = await at.toJwt();
    // LiveKit allows 60 s of clock skew; forge an older token by signing with a past exp.
    const [h, p] = jwt.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    payload.exp = Math.floor(Date.now() / 1000) - 3600;
    payload.nbf = payload.exp - 60;
    const crypto = await import('node:crypto');
    const body = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const sig = crypto.createHmac('sha256', devSecret).update(body).digest('base64url');
    const res = await rawTwirp('ListRooms', '{}', { token: `${body}.${sig}` });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /expired/);
  });
});

describe('protobuf bodies', () => {
  test('CreateRoom and ListRooms accept and return application/protobuf', async () => {
    const { CreateRoomRequest, ListRoomsResponse, Room } = await import('@livekit/protocol');
    const req = new CreateRoomRequest({ name: 'proto-room', emptyTimeout: 60 });
    const res = await rawTwirp('CreateRoom', req.toBinary(), { contentType: 'application/protobuf' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/protobuf');
    const room = Room.fromBinary(new Uint8Array(await res.arrayBuffer()));
    assert.equal(room.name, 'proto-room');
    const list = await rawTwirp('ListRooms', new Uint8Array(), { contentType: 'application/protobuf' });
    const rooms2 = ListRoomsResponse.fromBinary(new Uint8Array(await list.arrayBuffer()));
    assert.ok(rooms2.rooms.some((r) => r.name === 'proto-room'));
    await rooms.deleteRoom('proto-room');
  });
});

describe('bad input', () => {
  test('garbage JSON is malformed', async () => {
    const res = await rawTwirp('CreateRoom', '{"name": ');
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'malformed');
  });

  test('wrong JSON types are malformed', async () => {
    const res = await rawTwirp('CreateRoom', '{"name": 5, "emptyTimeout": "abc"}');
    assert.equal((await res.json()).code, 'malformed');
  });

  test('garbage protobuf is malformed', async () => {
    const res = await rawTwirp('CreateRoom', new Uint8Array([0xff, 0xff, 0xff, 0x0f]),
      { contentType: 'application/protobuf' });
    assert.equal((await res.json()).code, 'malformed');
  });

  test('wrong content type is a bad_route', async () => {
    const res = await rawTwirp('ListRooms', '{}', { contentType: 'text/plain' });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).code, 'bad_route');
  });

  test('unknown method and unknown service are bad_route', async () => {
    let res = await rawTwirp('Explode', '{}');
    assert.equal((await res.json()).code, 'bad_route');
    res = await fetch(`${media.httpUrl}/twirp/livekit.Nothing/Foo`, { method: 'POST', body: '{}' });
    assert.equal((await res.json()).code, 'bad_route');
  });

  test('GET on a Twirp method is a bad_route', async () => {
    const res = await fetch(`${media.httpUrl}/twirp/livekit.RoomService/ListRooms`);
    assert.equal((await res.json()).code, 'bad_route');
  });

  test('invalid room names are rejected', async () => {
    for (const name of ['', 'a'.repeat(300), 'bad\nname', 'pipe|name']) {
      await assert.rejects(() => rooms.createRoom({ name }), (e) => e.code === 'invalid_argument', name);
    }
  });

  test('an oversized body is refused with 413 and the server keeps answering', async () => {
    const big = JSON.stringify({ name: 'big', metadata: 'x'.repeat(2 * 1024 * 1024) });
    const res = await rawTwirp('CreateRoom', big).catch((e) => ({ status: 'reset', e }));
    if (res.status !== 'reset') assert.equal(res.status, 413);
    const list = await rooms.listRooms();
    assert.ok(Array.isArray(list));
  });

  test('raw garbage on the socket does not hurt the server', async () => {
    const net = await import('node:net');
    await new Promise((resolve) => {
      const s = net.connect(media.port, '127.0.0.1', () => {
        s.write(Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]));
      });
      s.on('data', () => {});
      s.on('close', resolve);
      s.on('error', resolve);
    });
    assert.ok((await fetch(media.httpUrl)).ok);
  });
});

describe('HTTP surface', () => {
  test('GET and HEAD / answer 200', async () => {
    assert.equal((await fetch(media.httpUrl)).status, 200);
    assert.equal((await fetch(media.httpUrl, { method: 'HEAD' })).status, 200);
  });

  test('CORS preflight allows any origin', async () => {
    const res = await fetch(`${media.httpUrl}/twirp/livekit.RoomService/ListRooms`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://example.org', 'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    assert.ok(res.status === 204 || res.status === 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-allow-headers'), /authorization/);
  });

  test('/rtc/validate checks the token like a join', async () => {
    const at = new AccessToken(devKey, devSecret, { identity: 'visitor-1' });
    at.addGrant({ roomJoin: true, room: 'visit-1' });
    let res = await fetch(`${media.httpUrl}/rtc/validate?access_token=${await at.toJwt()}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'success');
    res = await fetch(`${media.httpUrl}/rtc/validate`, { headers: { Authorization: `Bearer ${await at.toJwt()}` } });
    assert.equal(res.status, 200);
    res = await fetch(`${media.httpUrl}/rtc/validate?access_token=nope`);
    assert.equal(res.status, 401);
    const noJoin = new AccessToken(devKey, devSecret, { identity: 'x' });
    noJoin.addGrant({ roomList: true });
    res = await fetch(`${media.httpUrl}/rtc/validate?access_token=${await noJoin.toJwt()}`);
    assert.equal(res.status, 401);
    res = await fetch(`${media.httpUrl}/rtc/validate`);
    assert.equal(res.status, 401, 'never a bare 404 on /rtc/validate');
  });

  test('/rtc/v1/validate checks the token like /rtc/validate (v1 is served)', async () => {
    let res = await fetch(`${media.httpUrl}/rtc/v1/validate?access_token=x`);
    assert.equal(res.status, 401);
    const at = new AccessToken(devKey, devSecret, { identity: 'v1-check' });
    at.addGrant({ roomJoin: true, room: 'v1-room' });
    res = await fetch(`${media.httpUrl}/rtc/v1/validate?access_token=${await at.toJwt()}`);
    assert.equal(res.status, 200);
  });

  test('/metrics is Prometheus text', async () => {
    const res = await fetch(`${media.httpUrl}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /# TYPE parlor_rooms gauge/);
    assert.match(text, /parlor_http_requests_total \d+/);
  });
});

describe('webhooks', () => {
  test('every webhook verifies with WebhookReceiver and rooms produce started/finished', async () => {
    await rooms.createRoom({ name: 'hook-room', emptyTimeout: 60 });
    await rooms.deleteRoom('hook-room');
    const receiver = new WebhookReceiver(devKey, devSecret);
    const events = await waitFor(async () => {
      const evs = [];
      for (const r of sink.received) {
        assert.equal(r.headers['content-type'], 'application/webhook+json');
        assert.doesNotMatch(r.headers.authorization, /^Bearer /);
        evs.push(await receiver.receive(r.body, r.headers.authorization));
      }
      const mine = evs.filter((e) => e.room?.name === 'hook-room');
      return mine.length >= 2 ? { all: evs, mine } : null;
    }, { what: 'room_started and room_finished for hook-room' });
    assert.deepEqual(events.mine.map((e) => e.event), ['room_started', 'room_finished']);
    const ids = new Set(events.all.map((e) => e.id));
    assert.equal(ids.size, events.all.length, 'event ids are unique');
    for (const e of events.all) {
      assert.match(e.id, /^EV_/);
      assert.ok(e.createdAt > 0n);
    }
  });

  test('a tampered webhook body fails verification', async () => {
    const receiver = new WebhookReceiver(devKey, devSecret);
    const r = sink.received[0];
    await assert.rejects(() => receiver.receive(r.body.replace('room', 'ROOM'), r.headers.authorization));
  });

  test('an unused room closes after empty_timeout with room_finished', async () => {
    await rooms.createRoom({ name: 'idle-room', emptyTimeout: 1 });
    const receiver = new WebhookReceiver(devKey, devSecret);
    await waitFor(async () => {
      for (const r of sink.received) {
        const e = await receiver.receive(r.body, r.headers.authorization);
        if (e.event === 'room_finished' && e.room?.name === 'idle-room') return true;
      }
      return false;
    }, { timeoutMs: 8000, what: 'idle-room to close' });
    assert.deepEqual(await rooms.listRooms(['idle-room']), []);
  });

  test('a failing receiver gets retries until it answers 2xx', async () => {
    let failures = 2;
    sink.setStatus(() => (failures-- > 0 ? 500 : 200));
    const before = sink.received.length;
    await rooms.createRoom({ name: 'retry-room', emptyTimeout: 60 });
    await waitFor(() => sink.received.length >= before + 3, { timeoutMs: 8000, what: 'retries' });
    const bodies = sink.received.slice(before).map((r) => JSON.parse(r.body));
    assert.ok(bodies.every((b) => b.event === 'room_started' && b.room.name === 'retry-room'));
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1, 'a retry resends the same event id');
    sink.setStatus(200);
    await rooms.deleteRoom('retry-room');
  });
});
