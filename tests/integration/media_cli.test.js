// `parlor media` configuration and command line: bad config is one clear line and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runParlor, startMedia } from '../lib/media.js';

function configFile(text) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'parlor-cfg-')), 'c.yaml');
  writeFileSync(file, text);
  return file;
}

test('an unknown config key is rejected by name', async () => {
  const r = await runParlor(['media', '--config', configFile('keys:\n  k: secret123\nrtc:\n  udp_prot: 5\n')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown key 'rtc\.udp_prot'/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('invalid YAML and wrong types are clear errors', async () => {
  let r = await runParlor(['media', '--config', configFile('port: [1,\n')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /invalid YAML/);
  r = await runParlor(['media', '--config', configFile('keys:\n  k: secret123\nport: abc\n')]);
  assert.match(r.stderr, /'port' has the wrong type/);
});

test('no keys without --dev is an error', async () => {
  const r = await runParlor(['media'], { env: { LIVEKIT_KEYS: '' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no API keys/);
});

test('unknown flags are rejected', async () => {
  const r = await runParlor(['media', '--dev', '--frobnicate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
});

test('LIVEKIT_KEYS from the environment is used', async () => {
  const media = await startMedia({ args: ['--bind', '127.0.0.1'], env: { LIVEKIT_KEYS: 'envkey: envsecret-0123456789-0123456789-01' } });
  try {
    const { RoomServiceClient } = await import('livekit-server-sdk');
    const client = new RoomServiceClient(media.httpUrl, 'envkey', 'envsecret-0123456789-0123456789-01');
    assert.deepEqual(await client.listRooms(), []);
  } finally {
    await media.stop();
  }
});

test('--help prints usage and exits 0', async () => {
  const r = await runParlor(['media', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: parlor media/);
});
