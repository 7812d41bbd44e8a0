// A small TURN client over UDP (RFC 8656, long-term credentials) for tests that talk to Parlor's
// TURN server directly: allocate, create permissions, bind channels, read error codes.
import dgram from 'node:dgram';
import { createHash, createHmac, randomBytes } from 'node:crypto';

const kCookie = 0x2112a442;
export const Method = { Binding: 0x001, Allocate: 0x003, Refresh: 0x004, CreatePermission: 0x008, ChannelBind: 0x009 };
const Attr = {
  Username: 0x0006, MessageIntegrity: 0x0008, ErrorCode: 0x0009, ChannelNumber: 0x000c, Lifetime: 0x000d,
  XorPeerAddress: 0x0012, Realm: 0x0014, Nonce: 0x0015, XorRelayedAddress: 0x0016, RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
};

/** TURN REST credentials (coturn's use-auth-secret): what `parlor media` hands participants. */
export function restCredentials(secret, name, ttlSeconds = 600) {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${name}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

function xorAddress(ip, port, txid) {
  const b = Buffer.alloc(8);
  b[1] = 0x01;
  b.writeUInt16BE(port ^ (kCookie >>> 16), 2);
  const cookie = Buffer.alloc(4);
  cookie.writeUInt32BE(kCookie);
  ip.split('.').forEach((octet, i) => { b[4 + i] = Number(octet) ^ cookie[i]; });
  return b;
}

function readXorAddress(v) {
  const port = v.readUInt16BE(2) ^ (kCookie >>> 16);
  const cookie = Buffer.alloc(4);
  cookie.writeUInt32BE(kCookie);
  const ip = [0, 1, 2, 3].map((i) => v[4 + i] ^ cookie[i]).join('.');
  return { ip, port };
}

function encode(method, cls, txid, attrs, key) {
  const type = (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
  const parts = [];
  for (const [t, v] of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(t, 0);
    h.writeUInt16BE(v.length, 2);
    parts.push(h, v, Buffer.alloc((4 - (v.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(kCookie, 4);
  txid.copy(header, 8);
  if (key) {
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
    const h = Buffer.alloc(4);
    h.writeUInt16BE(Attr.MessageIntegrity, 0);
    h.writeUInt16BE(20, 2);
    body = Buffer.concat([body, h, mac]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function decode(buf) {
  const type = buf.readUInt16BE(0);
  const cls = ((type >> 4) & 1) | ((type >> 7) & 2);
  const txid = buf.subarray(8, 20);
  const attrs = new Map();
  for (let at = 20; at + 4 <= buf.length;) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    if (!attrs.has(t)) attrs.set(t, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  const err = attrs.get(Attr.ErrorCode);
  return {
    cls, txid, attrs,
    error: err ? (err[2] & 7) * 100 + err[3] : 0,
    relayed: attrs.has(Attr.XorRelayedAddress) ? readXorAddress(attrs.get(Attr.XorRelayedAddress)) : null,
  };
}

/** A TURN client on a fresh UDP socket talking to `host:port` with `credentials`. */
export async function turnClient({ host = '127.0.0.1', port, credentials }) {
  const socket = dgram.createSocket('udp4');
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  const pending = new Map();
  socket.on('message', (msg) => {
    if (msg.length < 20 || msg[0] >= 0x40) return;
    const m = decode(msg);
    const p = pending.get(m.txid.toString('hex'));
    if (p) { pending.delete(m.txid.toString('hex')); p(m); }
  });
  let realm = '';
  let nonce = '';
  const key = () => createHash('md5').update(`${credentials.username}:${realm}:${credentials.password}`).digest();

  async function request(method, attrs = [], { auth = true, timeoutMs = 3000 } = {}) {
    const txid = randomBytes(12);
    const all = auth
      ? [...attrs, [Attr.Username, Buffer.from(credentials.username)], [Attr.Realm, Buffer.from(realm)], [Attr.Nonce, Buffer.from(nonce)]]
      : attrs;
    const packet = encode(method, 0, txid, all, auth ? key() : null);
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { pending.delete(txid.toString('hex')); reject(new Error(`no TURN answer to method ${method}`)); }, timeoutMs);
      pending.set(txid.toString('hex'), (m) => { clearTimeout(timer); resolve(m); });
    });
    socket.send(packet, port, host);
    return answer;
  }

  const udp = Buffer.from([17, 0, 0, 0]);
  return {
    /** Allocate after the 401 challenge; resolves to the final answer. */
    async allocate() {
      const challenge = await request(Method.Allocate, [[Attr.RequestedTransport, udp]], { auth: false });
      if (challenge.error !== 401) return challenge;
      realm = challenge.attrs.get(Attr.Realm).toString();
      nonce = challenge.attrs.get(Attr.Nonce).toString();
      return request(Method.Allocate, [[Attr.RequestedTransport, udp]]);
    },
    createPermission(ip, peerPort = 1) {
      return request(Method.CreatePermission, [[Attr.XorPeerAddress, xorAddress(ip, peerPort)]]);
    },
    channelBind(channel, ip, peerPort) {
      const c = Buffer.alloc(4);
      c.writeUInt16BE(channel, 0);
      return request(Method.ChannelBind, [[Attr.ChannelNumber, c], [Attr.XorPeerAddress, xorAddress(ip, peerPort)]]);
    },
    /** Sends `payload` through a bound channel (ChannelData, RFC 8656 §12.4). */
    sendChannelData(channel, payload) {
      const header = Buffer.alloc(4);
      header.writeUInt16BE(channel, 0);
      header.writeUInt16BE(payload.length, 2);
      socket.send(Buffer.concat([header, payload]), port, host);
    },
    close: () => new Promise((r) => socket.close(r)),
  };
}
