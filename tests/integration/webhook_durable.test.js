// Webhooks are never lost (issue 15): with webhook.queue_file, events the media server could not
// deliver yet are kept on disk; a server killed with SIGKILL between an event and its delivery
// delivers it after the restart, in order and once. Driven by livekit-server-sdk's
// RoomServiceClient and verified with its WebhookReceiver, against the real binary.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { startWebhookSink } from '../lib/webhook-sink.js';

const dir = mkdtempSync(path.join(tmpdir(), 'parlor-webhooks-'));
const queueFile = path.join(dir, 'state', 'webhooks.queue');
const servers = [];
let sink;
after(async () => {
  for (const s of servers) await s.stop();
  await sink?.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (url) => `development: true\nkeys:\n  ${devKey}: ${devSecret}\n` +
  `webhook:\n  api_key: ${devKey}\n  urls:\n    - ${url}\n  max_attempts: 2\n  queue_file: ${queueFile}\n` +
  'room:\n  empty_timeout: 300\n';

async function metric(media, name) {
  const text = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

test('events queued while the app is down survive a SIGKILL and are delivered after the restart, in order, once', async () => {
  sink = await startWebhookSink({ status: 503 });  // the app is down
  const receiver = new WebhookReceiver(devKey, devSecret);
  const first = await startMedia({ config: config(sink.url) });
  servers.push(first);
  const rooms = new RoomServiceClient(first.httpUrl, devKey, devSecret);
  for (const name of ['visit-1', 'visit-2', 'visit-3']) await rooms.createRoom({ name });
  await rooms.deleteRoom('visit-2');
  // Every event has been tried at least once (the head is being retried) and none was taken.
  await waitFor(() => sink.received.length >= 1, { timeoutMs: 10000, what: 'a delivery attempt' });
  await waitFor(async () => (await metric(first, 'parlor_webhooks_queued')) === 4, { what: 'four events queued' });
  const attempted = await Promise.all(sink.received.map((r) => receiver.receive(r.body, r.headers.authorization)));
  const queuedIds = new Set(attempted.map((e) => e.id));
  assert.ok(existsSync(queueFile), 'the queue file exists');

  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));

  // The app comes back; the restarted media server delivers what the dead one could not.
  sink.received.length = 0;
  sink.setStatus(200);
  const second = await startMedia({ config: config(sink.url) });
  servers.push(second);
  await waitFor(async () => (await metric(second, 'parlor_webhooks_queued')) === 0,
    { timeoutMs: 15000, what: 'the queue drained after the restart' });
  const delivered = await Promise.all(sink.received.map((r) => receiver.receive(r.body, r.headers.authorization)));
  assert.deepEqual(delivered.map((e) => `${e.event} ${e.room.name}`), [
    'room_started visit-1', 'room_started visit-2', 'room_started visit-3', 'room_finished visit-2',
  ]);
  assert.equal(new Set(delivered.map((e) => e.id)).size, 4, 'each event once');
  for (const id of queuedIds) assert.ok(delivered.some((e) => e.id === id), `${id} kept its id`);
  assert.equal(await metric(second, 'parlor_webhooks_sent_total'), 4);

  // A clean stop with nothing pending leaves nothing to deliver at the next start.
  assert.equal(await second.stop(), 0);
  sink.received.length = 0;
  const third = await startMedia({ config: config(sink.url) });
  servers.push(third);
  assert.equal(await metric(third, 'parlor_webhooks_queued'), 0);
  assert.equal(sink.received.length, 0);
  assert.equal(await third.stop(), 0);  // one server at a time owns the queue file
});

test('a SIGTERM while the app is down keeps the events for the next start', async () => {
  sink.received.length = 0;
  sink.setStatus(503);
  const a = await startMedia({ config: config(sink.url) });
  servers.push(a);
  const rooms = new RoomServiceClient(a.httpUrl, devKey, devSecret);
  await rooms.createRoom({ name: 'visit-term' });
  await waitFor(() => sink.received.length >= 1, { timeoutMs: 10000, what: 'a delivery attempt' });
  // A clean stop does not wait for the app: the event stays on file.
  assert.equal(await a.stop(), 0);
  sink.received.length = 0;
  sink.setStatus(200);
  const b = await startMedia({ config: config(sink.url) });
  servers.push(b);
  await waitFor(() => sink.received.some((r) => JSON.parse(r.body).room?.name === 'visit-term'),
    { timeoutMs: 15000, what: 'the kept event delivered' });
  await waitFor(async () => (await metric(b, 'parlor_webhooks_queued')) === 0, { what: 'drained' });
});
