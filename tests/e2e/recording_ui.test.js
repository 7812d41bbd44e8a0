// Recording and privileged visits through the web UI (issue 12), against `parlor dev` with the UI
// embedded and Debian's Chromium with fake devices:
// * a recorded visit tells both sides so, on the pre-join page and in the room;
// * a privileged visit says it is not recorded, not monitored and end-to-end encrypted; both
//   participants see each other through livekit-client's E2EE, staff cannot monitor it, and no
//   recording exists (a keyless participant: e2ee_keyless.test.js);
// * staff play a finished visit's recording on the recordings page.
// Screenshots go to test-results/rec-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDev } from '../lib/dev.js';
import { waitFor } from '../lib/media.js';
import { launchChromium } from '../lib/browser.js';
import {
  createPair, joinFromPreJoin, openAppPage, openPreJoin, scheduleVisitNow, signIn, staffSession,
  waitForRemoteVideoPlaying,
} from '../lib/app-ui.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(repoRoot, 'test-results');
const shot = (page, name) => page.screenshot({ path: path.join(shots, `rec-${name}.png`), fullPage: true });

const PRIVILEGED = 'Privileged visit: not recorded, not monitored, end-to-end encrypted.';

let dev;
let browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  dev = await startDev();
  assert.match(dev.output(), /web UI: embedded/,
    'this parlor binary carries no web UI: run `make web` (cd web && npm run build), then rebuild it');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await dev?.stop();
});

// The demo visit (Rosa Resident with Victor Visitor, starting now) is an ordinary one: recorded.
let recordedVisitId = null;

test('a recorded visit tells both sides so, before joining and in the room', async () => {
  const staff = await staffSession(dev.appUrl);
  const demo = (await staff.get('/api/visits')).body.visits.find((v) => v.residentName === 'Rosa Resident' && v.status !== 'requested');
  assert.ok(demo, 'the demo visit exists');
  assert.equal(demo.recorded, true, 'an ordinary visit is recorded by default');
  const resident = await openAppPage(browser);
  const visitor = await openAppPage(browser);
  await signIn(resident, dev.appUrl, 'resident@parlor.local', 'parlor-resident');
  await signIn(visitor, dev.appUrl, 'visitor@parlor.local', 'parlor-visitor');
  for (const [page, other] of [[resident, 'Victor Visitor'], [visitor, 'Rosa Resident']]) {
    await openPreJoin(page, other);
    assert.match(await page.getByTestId('prejoin-notice').innerText(), /This visit will be recorded\./);
    await joinFromPreJoin(page);
  }
  for (const page of [resident, visitor]) {
    await page.getByTestId('recorded-notice').waitFor();
    assert.match(await page.getByTestId('recorded-notice').innerText(), /This visit is being recorded\./);
    assert.equal(await page.getByTestId('privileged-notice').count(), 0);
    assert.equal(await page.getByTestId('encrypted-indicator').count(), 0, 'an ordinary visit is not end-to-end encrypted');
    await waitForRemoteVideoPlaying(page);
  }
  await shot(resident, 'recorded-resident');
  await shot(visitor, 'recorded-visitor');
  // Give the recording some seconds of the call, then staff end the visit.
  const started = Date.now();
  await resident.waitForFunction((t0) => Date.now() - t0 > 6000, started, { polling: 500, timeout: 15000 });
  const ended = await staff.post(`/api/visits/${demo.id}/moderation/end`, { reason: 'test over' });
  assert.equal(ended.status, 200);
  for (const page of [resident, visitor]) await page.getByTestId('end-screen').waitFor({ timeout: 15000 });
  recordedVisitId = demo.id;
  for (const p of [resident, visitor]) await p.context().close();
});

test('staff play a finished visit\'s recording on the recordings page', async () => {
  assert.ok(recordedVisitId, 'the recorded visit of the previous test');
  const staff = await staffSession(dev.appUrl);
  // The composite is complete once the egress has ended and the app has its size and checksum.
  const rec = await waitFor(async () => {
    const r = (await staff.get(`/api/recordings?visitId=${recordedVisitId}`)).body.recordings ?? [];
    const failed = r.find((x) => /fail|abort/i.test(x.status));
    if (failed) throw new Error(`the recording failed: ${JSON.stringify(failed)}`);
    return r.find((x) => x.status === 'EGRESS_COMPLETE' && x.sizeBytes > 0 && x.sha256);
  }, { timeoutMs: 90000, intervalMs: 500, what: 'a complete recording of the visit' });
  assert.match(rec.sha256, /^[0-9a-f]{64}$/);

  const page = await openAppPage(browser);
  await signIn(page, dev.appUrl, 'staff@parlor.local', 'parlor-staff');
  await page.getByTestId('staff-console').waitFor();
  await page.goto(`${dev.appUrl}/recordings?visitId=${recordedVisitId}`);
  const row = page.getByTestId('recording-row').filter({ has: page.locator(`[title="${rec.sha256}"]`) });
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(rec.sha256.slice(0, 12)));
  await row.getByTestId('play-recording').click();
  const player = page.getByTestId('recording-player');
  await player.waitFor();
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=recording-player]');
    return v && v.readyState >= 2 && v.duration > 0;
  }, null, { timeout: 20000 });
  const { duration, src } = await player.evaluate((v) => ({ duration: v.duration, src: v.currentSrc }));
  console.log(`recording ${rec.id}: ${rec.sizeBytes} bytes, ${rec.durationMs} ms; the player says ${duration} s`);
  assert.match(src, /\/api\/recordings\/\d+\/download\?inline=1$/);
  assert.ok(duration > 3, `the player knows the length (${duration} s)`);
  await player.evaluate((v) => v.play());
  await page.waitForFunction(() => document.querySelector('[data-testid=recording-player]').currentTime > 0.5, null, { timeout: 15000 });
  await shot(page, 'recordings-player');
  // Someone who is not staff cannot fetch it.
  const visitor = await openAppPage(browser);
  await signIn(visitor, dev.appUrl, 'visitor@parlor.local', 'parlor-visitor');
  await visitor.getByTestId('visitor-home').waitFor();
  const status = await visitor.evaluate(async (u) => (await fetch(u)).status, `/api/recordings/${rec.id}/download?inline=1`);
  assert.ok(status === 401 || status === 403, `a visitor is refused the file (${status})`);
  for (const p of [page, visitor]) await p.context().close();
});

test('a privileged visit is encrypted end to end: told so, both sides see each other, staff cannot monitor, nothing recorded', async () => {
  const staff = await staffSession(dev.appUrl);
  const { resident, visitor } = await createPair(staff, 'priv');
  const visit = await scheduleVisitNow(staff, { residentId: resident.id, visitorIds: [visitor.id], privileged: true });
  assert.equal(visit.privileged, true);
  assert.equal(visit.recorded, false, 'a privileged visit is never recorded');

  // The join answer carries the key for the visit's participants only.
  const monitorJoin = await staff.post('/api/calls/join', { visitId: visit.id, monitor: true });
  assert.notEqual(monitorJoin.status, 200, 'staff cannot monitor a privileged visit');
  assert.equal(monitorJoin.body?.e2ee, undefined, 'staff never get the key');

  const residentPage = await openAppPage(browser);
  const visitorPage = await openAppPage(browser);
  await signIn(residentPage, dev.appUrl, resident.email, resident.password);
  await signIn(visitorPage, dev.appUrl, visitor.email, visitor.password);
  for (const [page, other] of [[residentPage, visitor.name], [visitorPage, resident.name]]) {
    await openPreJoin(page, other);
    assert.equal(await page.getByTestId('prejoin-notice').innerText(), PRIVILEGED, 'told before joining');
    await joinFromPreJoin(page);
  }
  for (const page of [residentPage, visitorPage]) {
    assert.equal(await page.getByTestId('privileged-notice').innerText(), PRIVILEGED);
    assert.equal(await page.getByTestId('recorded-notice').count(), 0);
    await page.getByTestId('encrypted-indicator').waitFor({ timeout: 15000 });
    // Decrypted: the other person's picture is decoded and keeps playing.
    const frames = await waitForRemoteVideoPlaying(page);
    assert.ok(frames > 0);
  }
  await shot(residentPage, 'privileged-resident');
  await shot(visitorPage, 'privileged-visitor');

  // A participant without the key (tests/e2e/e2ee_keyless.test.js) decodes no picture.
  // No recording exists for it (the app starts no egress for a privileged visit).
  const recs = await staff.get(`/api/recordings?visitId=${visit.id}`);
  assert.equal(recs.status, 200);
  assert.equal(recs.body.recordings.length, 0);
  for (const p of [residentPage, visitorPage]) await p.context().close();
});
