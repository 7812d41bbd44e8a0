// WSS end to end (issue 15): the official livekit-client in Debian's Chromium joins a room on
// `parlor media` over wss:// (certificate from a test CA made at run time), and two participants
// see and hear each other. Chromium trusts exactly that certificate's key through
// --ignore-certificate-errors-spki-list, not a blanket ignore: a second key it was not told
// about is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMedia } from '../lib/media.js';
import { startRoomEnvironment, expectMediaFlowing, devToken as token } from '../lib/livekit-page.js';
import { makeTestCa } from '../lib/tls.js';

let ca;
let leaf;
let env;

before(async () => {
  ca = makeTestCa();
  leaf = ca.issue('media');
  env = await startRoomEnvironment(['--dev', '--tls-cert', leaf.cert, '--tls-key', leaf.key],
    { chromiumArgs: [`--ignore-certificate-errors-spki-list=${leaf.spki}`] });
});

after(async () => {
  await env?.stop();
  ca?.remove();
});


test('two browsers join over wss:// and see and hear each other', async () => {
  assert.match(env.media.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
  const room = `tls-${Math.random().toString(36).slice(2, 8)}`;
  const alice = await env.openPage();
  const bob = await env.openPage();
  await alice.evaluate(([u, t]) => window.join(u, t, {}), [env.media.url, await token('alice', room)]);
  const bobJoin = await bob.evaluate(([u, t]) => window.join(u, t, {}), [env.media.url, await token('bob', room)]);
  assert.equal(bobJoin.remotes, 1, 'bob sees alice in the room at join');
  await expectMediaFlowing(alice, 'alice');
  await expectMediaFlowing(bob, 'bob');
  // The port speaks TLS only, so the signalling above can only have been wss://.
});

test('a certificate Chromium was not told about is refused', async () => {
  const other = ca.issue('other');  // same CA and names, different key
  const page = await env.openPage();
  // A second media server with a key Chromium was not told about.
  const media2 = await startMedia({ args: ['--dev', '--tls-cert', other.cert, '--tls-key', other.key] });
  try {
    const trusted = await page.evaluate((u) => fetch(`${u}/healthz`).then((r) => r.status, (e) => String(e)),
      env.media.httpUrl);
    assert.equal(trusted, 200);
    const refused = await page.evaluate((u) => fetch(`${u}/healthz`).then((r) => r.status, (e) => String(e)),
      media2.httpUrl);
    assert.match(String(refused), /Failed to fetch|TypeError/);
  } finally {
    assert.equal(await media2.stop(), 0);
  }
});
