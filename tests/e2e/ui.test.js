// The web UI end to end: `parlor dev` serving the UI embedded in the binary (gzip, ETags), Debian's
// Chromium with fake devices.
// Sign-in per role, the visitor's home with the demo visit, the staff console in a second
// browser context, a blocked visitor's join refused in the page, the pre-join camera check,
// and (once the media server's LiveKit rooms land) two people seeing each other.
// Screenshots go to test-results/ui-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDev } from '../lib/dev.js';
import { launchChromium } from '../lib/browser.js';
import { openAppPage, signIn as signInAs } from '../lib/app-ui.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(repoRoot, 'test-results');

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

const newPage = (size) => openAppPage(browser, size);
const signIn = (page, email, password) => signInAs(page, dev.appUrl, email, password);

async function assertFitsWidth(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at ${page.viewportSize().width} px (overflow ${overflow}px)`);
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, `ui-${name}.png`), fullPage: true });

test('unknown paths get the app, and a wrong password is shown in the page', async () => {
  const page = await newPage();
  await page.goto(`${dev.appUrl}/some/deep/link`);
  await page.getByTestId('not-found').waitFor();
  await page.goto(`${dev.appUrl}/staff`);
  await page.getByTestId('sign-in-page').waitFor();
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; void d.dismiss(); });
  await signIn(page, 'visitor@parlor.local', 'wrong-password');
  const err = page.getByTestId('sign-in-error');
  await err.waitFor();
  assert.match(await err.innerText(), /\w/);
  assert.equal(dialogs, 0, 'no alert()');
  await shot(page, 'sign-in-error');
  await page.context().close();
});

test('a visitor signs in and sees the home page with the demo visit', async () => {
  const page = await newPage();
  await signIn(page, 'visitor@parlor.local', 'parlor-visitor');
  await page.getByTestId('visitor-home').waitFor();
  const card = page.getByTestId('visit-card').filter({ hasText: 'Rosa Resident' });
  await card.waitFor();
  await card.getByTestId('join-button').waitFor();
  await shot(page, 'visitor-home');

  // Request a visit tomorrow at noon (inside the demo's bookable hours).
  const row = page.getByTestId('resident-row').filter({ hasText: 'Rosa Resident' });
  await row.getByRole('button', { name: 'Request a visit' }).click();
  const noon = new Date(Date.now() + 24 * 3600 * 1000);
  noon.setHours(12, 0, 0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  await row.getByLabel('Date and time').fill(
    `${noon.getFullYear()}-${pad(noon.getMonth() + 1)}-${pad(noon.getDate())}T12:00`);
  await row.getByRole('button', { name: 'Send request' }).click();
  await row.getByText('Your request was sent').waitFor();
  // The list reloads after the request: wait for the second card, then check there are no more.
  await page.getByTestId('visit-card').nth(1).waitFor();
  assert.equal(await page.getByTestId('visit-card').count(), 2, 'the requested visit is listed');
  await page.setViewportSize({ width: 390, height: 844 });
  await assertFitsWidth(page);
  await shot(page, 'visitor-home-390');
  await page.context().close();
});

test('staff in a second browser context see the staff console', async () => {
  const visitor = await newPage();
  await signIn(visitor, 'visitor@parlor.local', 'parlor-visitor');
  await visitor.getByTestId('visitor-home').waitFor();

  const staff = await newPage();
  await signIn(staff, 'staff@parlor.local', 'parlor-staff');
  await staff.getByTestId('staff-console').waitFor();
  await staff.getByTestId('schedule-row').filter({ hasText: 'Rosa Resident' }).waitFor();
  await staff.getByTestId('live-visits').waitFor();
  await staff.getByTestId('rules').getByLabel(/Longest visit/).waitFor();
  await staff.getByTestId('visitors').getByText('Blake Blocked').waitFor();
  await staff.getByTestId('approvals').getByRole('button', { name: 'Blocked' }).click();
  await staff.getByTestId('approval-row').filter({ hasText: 'Blake Blocked' }).waitFor();
  // The visitor's session is untouched by the staff sign-in in the other context.
  await visitor.reload();
  await visitor.getByTestId('visitor-home').waitFor();
  await shot(staff, 'staff-console');
  await staff.setViewportSize({ width: 390, height: 844 });
  await assertFitsWidth(staff);
  await shot(staff, 'staff-console-390');
  await visitor.context().close();
  await staff.context().close();
});

test('a blocked visitor trying to join sees why, in the page', async () => {
  const page = await newPage();
  await signIn(page, 'blocked@parlor.local', 'parlor-blocked');
  await page.getByTestId('visitor-home').waitFor();
  // The visit is listed, but a visitor who is not approved is never told the resident's name.
  const card = page.getByTestId('visit-card').first();
  await card.waitFor();
  assert.doesNotMatch(await card.innerText(), /Rosa Resident/);
  await card.getByTestId('join-button').click();
  await page.getByTestId('prejoin').waitFor();
  await page.getByTestId('join-now').click();
  const err = page.getByTestId('join-error');
  await err.waitFor();
  assert.match(await err.innerText(), /not approved/i);
  assert.equal(await page.getByTestId('video-room').count(), 0);
  await shot(page, 'blocked-join');
  await page.context().close();
});

test('the resident kiosk shows today\'s visit with a big Join button', async () => {
  const page = await newPage({ width: 390, height: 844 });
  await signIn(page, 'resident@parlor.local', 'parlor-resident');
  await page.getByTestId('resident-home').waitFor();
  const join = page.getByTestId('visit-card').filter({ hasText: 'Victor Visitor' }).getByTestId('join-button');
  await join.waitFor();
  const box = await join.boundingBox();
  assert.ok(box.height >= 60, `join button is big (${box.height}px)`);
  await assertFitsWidth(page);
  await shot(page, 'resident-home-390');
  await page.context().close();
});

test('the pre-join camera check previews the camera and reports the connection', async () => {
  const page = await newPage();
  await signIn(page, 'visitor@parlor.local', 'parlor-visitor');
  await page.getByTestId('visit-card').filter({ hasText: 'Rosa Resident' }).getByTestId('join-button').click();
  await page.getByTestId('prejoin').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=preview-video]')?.videoWidth > 0, null, { timeout: 10000 });
  assert.ok(await page.getByLabel('Camera', { exact: true }).count() > 0, 'camera select is labelled');
  await page.getByTestId('camera-check-button').click();
  const result = page.getByTestId('camera-check-result');
  await page.waitForFunction(() => document.querySelector('[data-testid=camera-check-result]')?.innerText.trim().length > 0,
    null, { timeout: 20000 });
  const text = await result.innerText();
  console.log(`camera check said: ${text.replace(/\s+/g, ' ')}`);
  assert.match(text, /Your connection looks good/);
  await shot(page, 'prejoin-camera-check');
  await page.setViewportSize({ width: 390, height: 844 });
  await assertFitsWidth(page);
  await shot(page, 'prejoin-390');
  await page.context().close();
});

test('resident and visitor join through the UI and see each other', async () => {
  const resident = await newPage();
  const visitor = await newPage();
  await signIn(resident, 'resident@parlor.local', 'parlor-resident');
  await signIn(visitor, 'visitor@parlor.local', 'parlor-visitor');
  for (const [page, other] of [[resident, 'Victor Visitor'], [visitor, 'Rosa Resident']]) {
    await page.getByTestId('visit-card').filter({ hasText: other }).getByTestId('join-button').click();
    await page.getByTestId('prejoin').waitFor();
    await page.getByTestId('join-now').click();
    await page.getByTestId('video-room').waitFor({ timeout: 20000 });
  }
  for (const page of [resident, visitor]) {
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=remote-video] video')].some((v) => v.videoWidth > 0),
      null, { timeout: 30000 });
    await page.getByTestId('local-video').waitFor();
    // The notice follows the visit's `recorded` flag from the API.
    const recorded = await page.evaluate(async () => {
      const r = await fetch('/api/visits?status=live', { credentials: 'include' });
      const { visits } = await r.json();
      return visits.some((v) => v.recorded);
    });
    assert.equal(await page.getByTestId('recorded-notice').isVisible(), recorded);
  }
  await shot(resident, 'room-resident');
  await shot(visitor, 'room-visitor');

  // Staff monitor hidden from a third context: they see both, neither participant sees them.
  const monitor = await newPage();
  await signIn(monitor, 'staff@parlor.local', 'parlor-staff');
  const monitored = monitor.getByTestId('live-visit').filter({ hasText: 'Rosa Resident' });
  await monitored.waitFor({ timeout: 15000 });
  await monitored.getByTestId('monitor-button').click();
  await monitor.waitForFunction(
    () => [...document.querySelectorAll('[data-testid=remote-video] video')].filter((v) => v.videoWidth > 0).length >= 2,
    null, { timeout: 30000 });
  await shot(monitor, 'staff-monitor');
  for (const page of [resident, visitor]) {
    assert.equal(await page.getByTestId('remote-video').count(), 1, 'the hidden monitor is not shown to participants');
  }
  await monitor.context().close();

  // Staff end the visit from the console; both see the end screen.
  const staff = await newPage();
  await signIn(staff, 'staff@parlor.local', 'parlor-staff');
  const live = staff.getByTestId('live-visit').filter({ hasText: 'Rosa Resident' });
  await live.waitFor({ timeout: 15000 });
  await live.getByRole('button', { name: 'End visit' }).click();
  await live.getByRole('button', { name: /Yes, end the visit/ }).click();
  for (const page of [resident, visitor]) await page.getByTestId('end-screen').waitFor({ timeout: 15000 });
  await shot(visitor, 'room-ended');
  for (const p of [resident, visitor, staff]) await p.context().close();
});
