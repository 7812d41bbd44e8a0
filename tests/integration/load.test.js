// `parlor load` (issue 14) against a real `parlor media`: one room, one publisher (VP8 simulcast +
// Opus), two subscribers, a few seconds. The generator checks its own books (every packet a
// publisher sent is received by each subscriber or counted lost; no sequence gap unreported) and
// exits non-zero when they do not balance; here we also read its JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { devKey, devSecret, runParlor, startMedia } from '../lib/media.js';

test('parlor load: 1 publisher, 2 subscribers: media flows, books balance, server CPU read', async () => {
  const media = await startMedia({ args: ['--bind', '127.0.0.1'] });
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-load-'));
  const json = path.join(dir, 'load.json');
  try {
    const r = await runParlor(['load', '--url', media.url, '--api-key', devKey, '--api-secret', devSecret,
      '--rooms', '1', '--publishers', '1', '--subscribers', '2', '--duration', '4s',
      '--server-pid', String(media.proc.pid), '--json', json]);
    assert.equal(r.code, 0, `parlor load failed:\n${r.stdout}\n${r.stderr}\n${media.logs()}`);
    assert.match(r.stdout, /\[ *\d+\.\ds\] load joined 3\/3/);  // a progress line
    assert.match(r.stdout, /books\s+balanced/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(j.peers.total, 3);
    assert.equal(j.peers.joined, 3);
    assert.equal(j.peers.media_flowing, 3);
    assert.equal(j.peers.failed, 0);
    assert.equal(j.join_ms.count, 3);
    assert.ok(j.join_ms.p50 > 0 && j.join_ms.p99 >= j.join_ms.p50);
    assert.ok(j.media_ms.p50 >= j.join_ms.p50);
    // Packets flowed: two subscribers × (audio + one video layer).
    assert.equal(j.books.balanced, true, j.books.problems.join('\n'));
    assert.equal(j.books.streams, 4);
    assert.equal(j.books.expected_streams, 4);
    assert.ok(j.books.received > 500, `received ${j.books.received}`);
    assert.ok(j.forwarded.packets_per_s > 0);
    assert.ok(j.published.packets_per_s > 0);
    assert.ok(j.fanout > 1, `fanout ${j.fanout}`);  // each published packet reaches up to two subscribers
    assert.equal(j.books.timestamp_anomalies, 0);
    // The server's CPU and memory over the window, and the floor from the same run.
    assert.equal(j.server.pid, media.proc.pid);
    assert.ok(j.server.cpu_seconds > 0, `server CPU ${j.server.cpu_seconds}`);
    assert.ok(j.server.rss_kb > 0);
    assert.ok(j.server.us_per_forwarded_packet > 0);
    assert.ok(j.floor.protect_us.aead_aes_128_gcm > 0 && j.floor.protect_us.aes_cm_128_hmac_sha1_80 > 0);
    assert.ok(j.floor.sendmmsg_us > 0 && j.floor.recvmmsg_us > 0);
    assert.ok(j.floor.us_per_forwarded_packet > 0 && j.floor.ratio > 0);
    assert.match(j.srtp_profile, /^(AEAD_AES_128_GCM|AES_CM_128_HMAC_SHA1_80)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await media.stop();
  }
});

test('parlor load exits non-zero when participants cannot join (wrong secret)', async () => {
  const media = await startMedia({ args: ['--bind', '127.0.0.1'] });
  try {
    const r = await runParlor(['load', '--url', media.url, '--api-key', devKey, '--api-secret', 'not-the-secret',
      '--publishers', '1', '--subscribers', '1', '--duration', '500ms', '--no-floor']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /NOT BALANCED/);
    assert.match(r.stdout, /failed: WebSocket upgrade/);
  } finally {
    await media.stop();
  }
});
