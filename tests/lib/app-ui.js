// Helpers for driving the web UI of a running `parlor dev` (see dev.js) with Playwright: sign in,
// join a visit through the pre-join page, check that remote video plays, and set up extra people
// and visits through the API as staff would.
import { ApiSession } from './dev.js';

/** A page in a fresh browser context; page errors are printed (401s of the signed-out check are by design). */
export async function openAppPage(browser, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) console.log(`page error: ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`page exception: ${e.message}`));
  return page;
}

export async function signIn(page, appUrl, email, password) {
  await page.goto(`${appUrl}/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** From the signed-in home page: opens the visit with `other` and waits on the pre-join page. */
export async function openPreJoin(page, other) {
  await page.getByTestId('visit-card').filter({ hasText: other }).first().getByTestId('join-button').click();
  await page.getByTestId('prejoin').waitFor();
}

/** Presses Join on the pre-join page and waits for the room. */
export async function joinFromPreJoin(page) {
  await page.getByTestId('join-now').click();
  await page.getByTestId('video-room').waitFor({ timeout: 20000 });
}

/**
 * Waits until a remote participant's <video> in the room shows a picture and keeps playing:
 * a size, at least `frames` more frames presented after the first one, and not paused.
 */
export async function waitForRemoteVideoPlaying(page, { frames = 15, timeoutMs = 30000 } = {}) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid=remote-video] video')].some((v) => v.videoWidth > 0),
    null, { timeout: timeoutMs });
  const count = () => page.evaluate(() => Math.max(0, ...[...document.querySelectorAll('[data-testid=remote-video] video')]
    .map((v) => v.getVideoPlaybackQuality().totalVideoFrames)));
  const first = await count();
  await page.waitForFunction(
    (min) => [...document.querySelectorAll('[data-testid=remote-video] video')]
      .some((v) => !v.paused && v.getVideoPlaybackQuality().totalVideoFrames >= min),
    first + frames, { timeout: timeoutMs });
  return count();
}

/** A staff API session on `appUrl`. */
export async function staffSession(appUrl) {
  const staff = new ApiSession(appUrl);
  const res = await staff.login('staff@parlor.local', 'parlor-staff');
  if (res.status !== 200) throw new Error(`staff sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return staff;
}

function expectOk(res, what) {
  if (res.status < 200 || res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * A new resident and an approved visitor, each with a sign-in, so a test's visit does not
 * collide with the demo visit. Returns { resident, visitor } with ids, names, emails, passwords.
 */
export async function createPair(staff, tag) {
  const resident = { name: `Rita ${tag}`, email: `rita-${tag}@parlor.test`, password: `pw-rita-${tag}-1234` };
  const visitor = { name: `Vince ${tag}`, email: `vince-${tag}@parlor.test`, password: `pw-vince-${tag}-1234` };
  resident.id = expectOk(await staff.post('/api/residents', { name: resident.name, unit: 'B2', email: resident.email, password: resident.password }),
    'create resident').resident.id;
  visitor.id = expectOk(await staff.post('/api/visitors', { name: visitor.name, email: visitor.email, relationship: 'counsel', password: visitor.password }),
    'create visitor').visitor.id;
  const approval = expectOk(await staff.post('/api/approvals', { residentId: resident.id, visitorId: visitor.id }), 'request approval').approval;
  expectOk(await staff.post(`/api/approvals/${approval.id}/decision`, { status: 'approved' }), 'approve');
  return { resident, visitor };
}

/** A visit starting now, scheduled by staff. */
export async function scheduleVisitNow(staff, { residentId, visitorIds, durationMinutes = 30, privileged = false }) {
  const visit = expectOk(await staff.post('/api/visits', {
    residentId, visitorIds, start: new Date().toISOString(), durationMinutes, privileged,
  }), 'create visit').visit;
  if (visit.status === 'requested') return expectOk(await staff.post(`/api/visits/${visit.id}/schedule`, {}), 'schedule').visit;
  return visit;
}
