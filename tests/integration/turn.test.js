// Parlor's own TURN server against a real TURN client over UDP: credentials are checked (the TURN
// REST scheme: coturn's use-auth-secret), an allocation's relayed address is on the node, and the
// server relays to nothing but the node's media address: not to other hosts, not to other ports of
// loopback, not to a cloud metadata address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startMedia, waitFor } from '../lib/media.js';
import { randomPort } from '../lib/netblock.js';
import { turnClient, restCredentials } from '../lib/turn-client.js';

const secret = 'turn-test-secret';
let media;
let turnPort;
let mediaPort;

async function metric(name) {
  const text = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

before(async () => {
  for (let attempt = 0; attempt < 5 && !turnPort; attempt++) {
    const port = randomPort();
    media = await startMedia({
      config: `development: true\nturn:\n  enabled: true\n  udp_port: ${port}\n  tls_port: 0\n  secret: ${secret}\n`,
    });
    await waitFor(() => /listening udp=/.test(media.stdout()), { what: 'startup lines' });
    const m = media.stdout().match(/listening turn-udp=127\.0\.0\.1:(\d+)/);
    if (m) turnPort = Number(m[1]); else await media.stop();
  }
  assert.ok(turnPort, 'parlor media serves TURN/UDP');
  mediaPort = Number(media.stdout().match(/listening udp=127\.0\.0\.1:(\d+)/)[1]);
});

after(async () => { await media?.stop(); });

test('wrong or expired credentials are refused; good ones allocate a relayed address on the node', async () => {
  const wrong = await turnClient({ port: turnPort, credentials: { username: `${Math.floor(Date.now() / 1000) + 60}:eve`, password: 'guess' } });
  assert.equal((await wrong.allocate()).error, 401);
  await wrong.close();
  const expired = await turnClient({ port: turnPort, credentials: restCredentials(secret, 'eve', -10) });
  assert.equal((await expired.allocate()).error, 401);
  await expired.close();

  const client = await turnClient({ port: turnPort, credentials: restCredentials(secret, 'alice') });
  const allocated = await client.allocate();
  assert.equal(allocated.error, 0, 'allocated');
  assert.equal(allocated.relayed.ip, '127.0.0.1');
  assert.equal(await metric('parlor_turn_allocations'), 1);
  assert.ok(await metric('parlor_turn_auth_failures_total') >= 2);
  await client.close();
});

test('relays only to the node\'s media address', async () => {
  const client = await turnClient({ port: turnPort, credentials: restCredentials(secret, 'mallory') });
  assert.equal((await client.allocate()).error, 0);
  for (const ip of ['10.0.0.1', '169.254.169.254', '192.168.1.1', '8.8.8.8', '172.17.0.1']) {
    assert.equal((await client.createPermission(ip)).error, 403, `permission for ${ip} refused`);
  }
  // Loopback is the media address's host, but only its media port is a peer.
  const victim = dgram.createSocket('udp4');
  await new Promise((r) => victim.bind(0, '127.0.0.1', r));
  const received = [];
  victim.on('message', (m) => received.push(m));
  const victimPort = victim.address().port;
  assert.equal((await client.channelBind(0x4000, '127.0.0.1', victimPort)).error, 403, 'channel to another loopback port refused');
  assert.equal((await client.channelBind(0x4000, '127.0.0.1', 22)).error, 403, 'channel to ssh refused');
  assert.equal((await client.createPermission('127.0.0.1', mediaPort)).error, 0, 'permission for the media host');
  assert.equal((await client.channelBind(0x4001, '127.0.0.1', mediaPort)).error, 0, 'channel to the media address');
  assert.ok(await metric('parlor_turn_forbidden_peers_total') >= 6);
  assert.equal(received.length, 0, 'nothing reached another port');
  victim.close();
  await client.close();
});

// With several media workers (the default: one per core) each worker's media port is a peer, and
// what a client relays reaches the worker it addressed: a STUN check for a ufrag nobody issued is
// counted there (parlor_udp_unknown_ufrag_total sums the workers).
test('relays to every media worker\'s port', async () => {
  const ports = [...media.stdout().matchAll(/listening udp=127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(ports.length >= 1);
  // A Binding request with USERNAME "nobody:x" (RFC 5389 §6, §15.3).
  const stun = Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42]), Buffer.alloc(12, 7),
    Buffer.from([0x00, 0x06, 0x00, 0x08]), Buffer.from('nobody:x'),
  ]);
  for (const port of ports) {
    const client = await turnClient({ port: turnPort, credentials: restCredentials(secret, `w${port}`) });
    assert.equal((await client.allocate()).error, 0);
    assert.equal((await client.channelBind(0x4000, '127.0.0.1', port)).error, 0, `channel to media port ${port}`);
    const before = await metric('parlor_udp_unknown_ufrag_total');
    const relayed = await metric('parlor_turn_relayed_to_media_total');
    client.sendChannelData(0x4000, stun);
    await waitFor(async () => await metric('parlor_udp_unknown_ufrag_total') > before,
      { what: `the check relayed to media port ${port} counted by its worker` });
    assert.equal(await metric('parlor_turn_relayed_to_media_total'), relayed + 1);
    await client.close();
  }
});

test('garbage to the TURN port is counted and the server keeps serving', async () => {
  const sock = dgram.createSocket('udp4');
  for (const junk of [Buffer.alloc(0), Buffer.from([0x40, 0, 0xff, 0xff]), Buffer.alloc(1400, 0xff), Buffer.from('GET / HTTP/1.1\r\n\r\n')]) {
    sock.send(junk, turnPort, '127.0.0.1');
  }
  await waitFor(async () => (await metric('parlor_turn_malformed_total')) >= 2, { what: 'malformed TURN input counted' });
  sock.close();
  const client = await turnClient({ port: turnPort, credentials: restCredentials(secret, 'after') });
  assert.equal((await client.allocate()).error, 0, 'still allocating');
  await client.close();
});
