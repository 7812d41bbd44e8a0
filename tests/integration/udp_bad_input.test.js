// Bad input at the media port: random bytes, STUN for unknown ufrags, STUN with a wrong
// MESSAGE-INTEGRITY, DTLS and RTP from addresses ICE never validated, truncated packets, and an
// oversized SDP offer. Each is dropped or rejected, counted in /metrics, and the server goes on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMedia, waitFor } from '../lib/media.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chromiumOffer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium156-offer.sdp'), 'utf8');

let media;
let udpPort;
let sock;

before(async () => {
  media = await startMedia({ args: ['--dev'] });
  const stats = await (await fetch(`${media.httpUrl}/echo/stats`)).json();
  udpPort = stats.udpPort;
  sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
});

after(async () => {
  sock?.close();
  await media?.stop();
});

async function metrics() {
  const text = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^(parlor_\w+) (\d+)/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

const send = (buf) => new Promise((r) => sock.send(buf, udpPort, '127.0.0.1', r));

// A STUN Binding request with USERNAME and a MESSAGE-INTEGRITY keyed with `password`, plus a
// correct FINGERPRINT (so only the integrity can be wrong).
function stunBinding(username, password) {
  const attr = (type, value) => {
    const pad = (4 - (value.length % 4)) % 4;
    const b = Buffer.alloc(4 + value.length + pad);
    b.writeUInt16BE(type, 0);
    b.writeUInt16BE(value.length, 2);
    value.copy(b, 4);
    return b;
  };
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(header, 8);
  let body = attr(0x0006, Buffer.from(username));
  header.writeUInt16BE(body.length + 24, 2);
  const mi = createHmac('sha1', password).update(Buffer.concat([header, body])).digest();
  body = Buffer.concat([body, attr(0x0008, mi)]);
  header.writeUInt16BE(body.length + 8, 2);
  const crc = (zlib.crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0;
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE(crc, 0);
  return Buffer.concat([header, body, attr(0x8028, fp)]);
}

test('junk, forged STUN, unvalidated DTLS/RTP and truncated packets are dropped and counted', async () => {
  const answer = await (await fetch(`${media.httpUrl}/echo/offer`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromiumOffer,
  })).text();
  const ufrag = answer.match(/a=ice-ufrag:(\S+)/)[1];
  const before = await metrics();

  for (let i = 0; i < 40; i++) await send(randomBytes(1 + (i * 37) % 1400));  // random, any first byte
  const rtp = randomBytes(200);
  rtp[0] = 0x80;
  await send(rtp);                                         // RTP from nowhere
  const dtls = randomBytes(120);
  dtls[0] = 22;
  await send(dtls);                                        // a "ClientHello" from an unvalidated address
  await send(Buffer.from([0x80, 0x60, 0x00]));             // truncated RTP
  await send(Buffer.from([0x00, 0x01, 0x00]));             // truncated STUN
  await send(stunBinding('nobody:peer', 'x'.repeat(22)));  // unknown ufrag
  const peerUfrag = chromiumOffer.match(/a=ice-ufrag:(\S+)/)[1];
  await send(stunBinding(`${ufrag}:${peerUfrag}`, 'wrong-password-wrong-password'));  // right names, wrong key
  await send(stunBinding(`${ufrag}:someone-else`, 'wrong-password-wrong-password'));  // wrong remote ufrag

  const after = await waitFor(async () => {
    const m = await metrics();
    return m.parlor_udp_unknown_source_total - (before.parlor_udp_unknown_source_total ?? 0) >= 30
      && m.parlor_stun_bad_integrity_total > (before.parlor_stun_bad_integrity_total ?? 0)
      && m.parlor_stun_unauthorized_total > (before.parlor_stun_unauthorized_total ?? 0) ? m : null;
  }, { timeoutMs: 5000, what: 'drop counters in /metrics' });
  assert.ok(after.parlor_udp_unknown_ufrag_total > (before.parlor_udp_unknown_ufrag_total ?? 0), 'unknown ufrag counted');
  assert.ok(after.parlor_stun_unauthorized_total > (before.parlor_stun_unauthorized_total ?? 0), 'wrong username counted');
  assert.ok(after.parlor_udp_received_total >= 46);

  // Still serving: another camera check is answered.
  const res = await fetch(`${media.httpUrl}/echo/offer`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: chromiumOffer });
  assert.equal(res.status, 200);
});

test('an oversized SDP offer is refused with a clear status', async () => {
  const huge = chromiumOffer + `a=x-filler:${'y'.repeat(200 * 1024)}\r\n`;
  const res = await fetch(`${media.httpUrl}/echo/offer`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: huge });
  assert.ok(res.status === 400 || res.status === 413, `status ${res.status}`);
  assert.equal((await fetch(media.httpUrl)).status, 200);
});
