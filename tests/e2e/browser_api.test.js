// A page in real Chromium, served from another origin, reaches the media server the way
// livekit-client does before it opens a signaling socket (HEAD / in prepareConnection, GET
// /rtc/validate after a failed connect) and the way a browser admin tool calls Twirp
// (CORS preflight with Authorization).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AccessToken } from 'livekit-server-sdk';
import { startMedia, devKey, devSecret } from '../lib/media.js';
import { launchChromium, serveStatic } from '../lib/browser.js';

let media;
let site;
let browser;

before(async () => {
  media = await startMedia({ args: ['--dev'] });
  site = await serveStatic({ '/': { type: 'text/html', body: '<!doctype html><title>parlor</title>' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await media?.stop();
});

test('cross-origin page can probe, validate and call Twirp', async () => {
  const join = new AccessToken(devKey, devSecret, { identity: 'visitor-1', ttl: '5m' });
  join.addGrant({ roomJoin: true, room: 'visit-9' });
  const admin = new AccessToken(devKey, devSecret, { ttl: '5m' });
  admin.addGrant({ roomCreate: true, roomList: true });
  const page = await (await browser.newContext()).newPage();
  await page.goto(site.url);
  const result = await page.evaluate(async ({ base, joinToken, adminToken }) => {
    const head = await fetch(base, { method: 'HEAD' });
    const validate = await fetch(`${base}/rtc/validate?access_token=${joinToken}`);
    const bad = await fetch(`${base}/rtc/validate?access_token=forged`);
    const create = await fetch(`${base}/twirp/livekit.RoomService/CreateRoom`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: 'visit-9' }),
    });
    return {
      head: head.status,
      validate: [validate.status, await validate.text()],
      bad: bad.status,
      create: [create.status, (await create.json()).name],
    };
  }, { base: media.httpUrl, joinToken: await join.toJwt(), adminToken: await admin.toJwt() });
  assert.equal(result.head, 200);
  assert.deepEqual(result.validate, [200, 'success']);
  assert.equal(result.bad, 401);
  assert.deepEqual(result.create, [200, 'visit-9']);
});
