// The deploy files (issue 15): what can be checked on this machine is checked against the real
// binary and Debian's tools. YAML parses; the media configurations start `parlor media` (from a
// file and from LIVEKIT_CONFIG, as containers pass it); every value the Helm templates read exists
// in values.yaml; every metric the Prometheus alerts and the Grafana dashboard name is one the
// server exports; the systemd units pass `systemd-analyze verify`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessToken } from 'livekit-server-sdk';
import { startMedia, parlorBin } from '../lib/media.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const deploy = path.join(root, 'deploy');
const key = 'deploykey';
const secret = 'a-deploy-test-secret-of-enough-length';
const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

// Python's YAML loader (Debian's python3-yaml, installed by scripts/deps.sh) as the reference parser.
function parseYaml(text) {
  const out = execFileSync('python3', ['-c',
    'import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))'], { input: text });
  return JSON.parse(out.toString());
}

function filesUnder(dir, pattern) {
  return readdirSync(dir, { recursive: true }).map(String)
    .filter((f) => pattern.test(f) && !f.includes(`helm${path.sep}parlor${path.sep}templates`))
    .map((f) => path.join(dir, f));
}

test('every YAML file under deploy/ and config-sample.yaml parses', () => {
  const files = [...filesUnder(deploy, /\.ya?ml$/), path.join(root, 'config-sample.yaml')];
  assert.ok(files.length >= 6, `found ${files.length} YAML files`);
  for (const f of files) {
    assert.doesNotThrow(() => parseYaml(readFileSync(f, 'utf8')), `${path.relative(root, f)} parses`);
  }
  // The compose files' inline LiveKit configuration is YAML too.
  const [compose] = parseYaml(readFileSync(path.join(deploy, 'docker-compose.livekit.yml'), 'utf8'));
  const [inline] = parseYaml(compose.services.livekit.environment.LIVEKIT_CONFIG);
  assert.equal(inline.room.auto_create, false);
  assert.match(inline.webhook.urls[0], /\/webhooks\/livekit$/);
});

async function roomAutoCreated(media) {
  const at = new AccessToken(key, secret, { identity: 'probe' });
  at.addGrant({ roomJoin: true, room: 'no-such-visit' });
  const res = await fetch(`${media.httpUrl}/rtc/validate?access_token=${await at.toJwt()}`);
  return res.status === 200;
}

test('deploy/media.yaml starts parlor media from a file and from LIVEKIT_CONFIG; rooms are not auto-created', async () => {
  const original = readFileSync(path.join(deploy, 'media.yaml'), 'utf8');
  assert.match(original, /queue_file: \/var\/lib\/parlor\//);
  // The same file, with the webhook queue in a scratch directory (one per server: a queue file
  // has one owner) instead of /var/lib/parlor.
  const scratch = mkdtempSync(path.join(tmpdir(), 'parlor-deploy-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const withQueue = (name) => original.replace(/queue_file: \S+/, `queue_file: ${path.join(scratch, name)}`);
  const yaml = withQueue('file.queue');
  const env = { LIVEKIT_KEYS: `${key}: ${secret}` };
  const fromFile = await startMedia({ config: yaml, env });
  servers.push(fromFile);
  assert.equal(await roomAutoCreated(fromFile), false, 'a token alone must not create a room');
  // LIVEKIT_CONFIG holds the YAML itself (LiveKit's meaning) and wins over defaults.
  const fromEnv = await startMedia({ args: ['--keys', `${key}: ${secret}`], env: { LIVEKIT_CONFIG: withQueue('env.queue') } });
  servers.push(fromEnv);
  assert.equal(await roomAutoCreated(fromEnv), false);
  const plain = await startMedia({ args: ['--keys', `${key}: ${secret}`] });
  servers.push(plain);
  assert.equal(await roomAutoCreated(plain), true, 'the default (auto_create) differs, so the check can fail');
});

test('every .Values path the Helm templates read exists in values.yaml', () => {
  const chart = path.join(deploy, 'helm', 'parlor');
  const [values] = parseYaml(readFileSync(path.join(chart, 'values.yaml'), 'utf8'));
  const [meta] = parseYaml(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8'));
  assert.equal(meta.name, 'parlor');
  const templates = readdirSync(path.join(chart, 'templates')).map((f) => readFileSync(path.join(chart, 'templates', f), 'utf8'));
  const paths = new Set(templates.flatMap((t) => [...t.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => m[1].slice(1))));
  assert.ok(paths.size > 10, `${paths.size} value paths`);
  for (const p of paths) {
    let v = values;
    for (const part of p.split('.')) {
      assert.ok(v !== null && typeof v === 'object' && part in v, `values.yaml has no ${p}`);
      v = v[part];
    }
  }
});

test('every metric in the Prometheus alerts and the Grafana dashboard is exported by parlor media', async () => {
  const media = await startMedia({ args: ['--dev'] });
  servers.push(media);
  const exported = new Set((await (await fetch(`${media.httpUrl}/metrics`)).text())
    .split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
  const named = (text) => [...text.matchAll(/\bparlor_[a-z0-9_]+/g)].map((m) => m[0]);
  const [alerts] = parseYaml(readFileSync(path.join(deploy, 'prometheus', 'parlor-alerts.yml'), 'utf8'));
  const exprs = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr));
  const dashboard = JSON.parse(readFileSync(path.join(deploy, 'grafana', 'parlor-media.json'), 'utf8'));
  const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const all = [...exprs, ...targets].flatMap(named);
  assert.ok(all.length >= 15, `${all.length} metric references`);
  for (const m of all) assert.ok(exported.has(m), `${m} is not exported by /metrics`);
  const [prom] = parseYaml(readFileSync(path.join(deploy, 'prometheus', 'prometheus.yml'), 'utf8'));
  assert.equal(prom.scrape_configs[0].metrics_path, '/metrics');
});

test('the systemd units pass systemd-analyze verify', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-units-'));
  try {
    const units = readdirSync(path.join(deploy, 'systemd')).filter((f) => f.endsWith('.service'));
    assert.deepEqual(units.sort(), ['parlor-app.service', 'parlor-media.service']);
    for (const u of units) {
      // The units name the installed binary; verify them against the one under test.
      const text = readFileSync(path.join(deploy, 'systemd', u), 'utf8').replaceAll('/usr/local/bin/parlor', parlorBin);
      writeFileSync(path.join(dir, u), text);
    }
    const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => path.join(dir, u))], { encoding: 'utf8' });
    // Unknown keys are only warnings: any output at all is a finding.
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
