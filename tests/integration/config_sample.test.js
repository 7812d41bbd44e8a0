// The commented sample config must stay loadable: it is what operators copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startMedia } from '../lib/media.js';

test('config-sample.yaml starts the server once its placeholder secret is replaced', async () => {
  const sample = readFileSync(new URL('../../config-sample.yaml', import.meta.url), 'utf8')
    .replace(/^port: 7880$/m, 'port: 0');
  // As shipped, the placeholder secret is refused with one line naming the setting.
  await assert.rejects(startMedia({ config: sample }), (e) => {
    assert.match(e.message, /config: keys: the secret for key 'devkey' must be at least 32 characters/);
    return true;
  });
  const text = sample.replace(/^  devkey: change-me$/m, `  devkey: ${'s'.repeat(32)}`);
  assert.notEqual(text, sample);
  const media = await startMedia({ config: text });
  try {
    assert.equal((await fetch(media.httpUrl)).status, 200);
  } finally {
    assert.equal(await media.stop(), 0);
  }
});
