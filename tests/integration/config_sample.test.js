// The commented sample config must stay loadable: it is what operators copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startMedia } from '../lib/media.js';

test('config-sample.yaml starts the server', async () => {
  const text = readFileSync(new URL('../../config-sample.yaml', import.meta.url), 'utf8')
    .replace(/^port: 7880$/m, 'port: 0');
  const media = await startMedia({ config: text });
  try {
    assert.equal((await fetch(media.httpUrl)).status, 200);
  } finally {
    assert.equal(await media.stop(), 0);
  }
});
