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

// The Helm chart rendered by tools/helm-render (text/template + sprig + Helm's built-ins, built
// with Debian's Go packages; Helm itself is not packaged in Debian), with the default values and
// with variants; every rendered document must parse and carry what the values ask for.
const chartDir = path.join(deploy, 'helm', 'parlor');
const renderDir = mkdtempSync(path.join(tmpdir(), 'parlor-helm-render-'));
after(() => rmSync(renderDir, { recursive: true, force: true }));
let rendererBin;
function renderer() {
  if (rendererBin) return rendererBin;
  const bin = path.join(renderDir, 'helm-render');
  execFileSync('go', ['build', '-o', bin, './tools/helm-render'], {
    cwd: root,
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '', GOCACHE: path.join(renderDir, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rendererBin = bin;
  return bin;
}
const required = ['--set', 'livekit.apiKey=chartkey', '--set', `livekit.apiSecret=${secret}`];

function render(args) {
  const r = spawnSync(renderer(), [...args, chartDir], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, docs: r.status === 0 ? parseYaml(r.stdout).filter(Boolean) : [] };
}
function rendered(args) {
  const r = render(args);
  assert.equal(r.status, 0, r.stderr);
  for (const d of r.docs) assert.ok(d.apiVersion && d.kind && d.metadata?.name, `a Kubernetes object: ${JSON.stringify(d).slice(0, 200)}`);
  const find = (kind, name) => {
    const d = r.docs.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(d, `${kind} ${name} rendered (have ${r.docs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
    return d;
  };
  return { docs: r.docs, find, has: (kind, name) => r.docs.some((x) => x.kind === kind && x.metadata.name === name) };
}
const envOf = (container) => Object.fromEntries(container.env.map((e) => [e.name, e.value ?? e.valueFrom]));

test('the Helm chart renders with its default values', () => {
  const { find, docs } = rendered([...required, '--set', 'postgresql.password=pgpass']);
  const app = find('Deployment', 'parlor-parlor-app');
  assert.equal(app.spec.replicas, 2);
  const [appC] = app.spec.template.spec.containers;
  assert.deepEqual(appC.args.slice(0, 5), ['app', '--port', '8080', '--bind', '0.0.0.0'], 'the app listens beyond the pod\'s loopback');
  const env = envOf(appC);
  assert.equal(env.LIVEKIT_URL, 'ws://parlor-parlor-media:7880');
  assert.deepEqual(env.LIVEKIT_API_KEY, { secretKeyRef: { name: 'parlor-parlor-keys', key: 'LIVEKIT_API_KEY' } });
  assert.deepEqual(env.LIVEKIT_API_SECRET, { secretKeyRef: { name: 'parlor-parlor-keys', key: 'LIVEKIT_API_SECRET' } });
  assert.deepEqual(env.POSTGRES_PASSWORD, { secretKeyRef: { name: 'parlor-parlor-postgresql', key: 'POSTGRES_PASSWORD' } });
  assert.equal(env.DATABASE_URL, 'postgresql://parlor:$(POSTGRES_PASSWORD)@parlor-parlor-postgresql:5432/parlor');
  assert.equal(appC.readinessProbe.httpGet.path, '/healthz');
  assert.equal(find('Service', 'parlor-parlor-app').spec.ports[0].targetPort, 'http');
  const keys = find('Secret', 'parlor-parlor-keys');
  assert.deepEqual(keys.stringData, { LIVEKIT_API_KEY: 'chartkey', LIVEKIT_API_SECRET: secret });

  const media = find('Deployment', 'parlor-parlor-media');
  const spec = media.spec.template.spec;
  assert.equal(spec.hostNetwork, true);
  assert.equal(media.spec.strategy.type, 'Recreate');
  const [mediaC] = spec.containers;
  const udp = mediaC.ports.filter((p) => p.protocol === 'UDP').map((p) => p.containerPort);
  assert.deepEqual(udp, [7882, 7883], 'one UDP port per media worker');
  const tcp = mediaC.ports.filter((p) => p.protocol === 'TCP' && p.name.startsWith('rtc-')).map((p) => p.containerPort);
  assert.deepEqual(tcp, [7881, 7882], 'one ICE-TCP port per media worker (TCP 7882 is not UDP 7882)');
  assert.equal(mediaC.readinessProbe.httpGet.path, '/healthz');
  assert.equal(envOf(mediaC).LIVEKIT_KEYS, '$(LIVEKIT_API_KEY): $(LIVEKIT_API_SECRET)');
  const [conf] = parseYaml(find('Secret', 'parlor-parlor-media').stringData['media.yaml']);
  assert.equal(conf.room.auto_create, false);
  assert.deepEqual(conf.webhook.urls, ['http://parlor-parlor-app/webhooks/livekit']);
  assert.equal(conf.rtc.workers, 2);
  assert.equal(conf.turn, undefined);
  assert.ok(!docs.some((d) => d.metadata.name === 'parlor-parlor-media-rtc'), 'no UDP Service with host networking');

  const pg = find('StatefulSet', 'parlor-parlor-postgresql');
  assert.equal(pg.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '10Gi');
  assert.equal(find('Service', 'parlor-parlor-postgresql').spec.ports[0].port, 5432);
  assert.equal(find('Secret', 'parlor-parlor-postgresql').stringData.POSTGRES_PASSWORD, 'pgpass');
});

test('the chart\'s media configuration starts parlor media', async () => {
  const { find } = rendered([...required, '--set', 'postgresql.password=pgpass', '--set', 'turn.enabled=true', '--set', 'turn.secret=turn-secret']);
  const scratch = mkdtempSync(path.join(tmpdir(), 'parlor-helm-media-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  // As the pod would run it, on loopback and free ports, with the queue in a scratch directory.
  const yaml = find('Secret', 'parlor-parlor-media').stringData['media.yaml']
    .replace(/^port: \d+/m, 'port: 0').replace('bind_addresses: [0.0.0.0]', 'bind_addresses: [127.0.0.1]')
    .replace(/udp_port: 7882/, 'udp_port: 0').replace(/tcp_port: 7881/, 'tcp_port: 0')
    .replace('/var/lib/parlor/webhooks.queue', path.join(scratch, 'webhooks.queue'));
  const media = await startMedia({ config: yaml, env: { LIVEKIT_KEYS: `${key}: ${secret}` } });
  servers.push(media);
  assert.equal(await roomAutoCreated(media), false);
});

test('the Helm chart renders PostgreSQL, TURN and a UDP port list without host networking', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-helm-values-'));
  try {
    const values = path.join(dir, 'values.yaml');
    writeFileSync(values, [
      'livekit: { publicUrl: "wss://media.example.org" }',
      'media:',
      '  hostNetwork: false',
      '  rtc: { nodeIp: 203.0.113.7, workers: 3, udpPort: 50000, tcpPort: 7891 }',
      '  service: { type: LoadBalancer, annotations: { example.org/udp: "yes" } }',
      'postgresql: { enabled: true, password: pw, database: visits, username: parlorapp }',
      'turn: { enabled: true, secret: turn-shared-secret, realm: turn.example.org, tlsSecret: turn-tls, hostNetwork: false }',
      'ingress: { enabled: true, host: visits.example.org }',
      '',
    ].join('\n'));
    const { find } = rendered([...required, '-f', values]);
    const rtc = find('Service', 'parlor-parlor-media-rtc');
    assert.equal(rtc.spec.type, 'LoadBalancer');
    assert.equal(rtc.metadata.annotations['example.org/udp'], 'yes');
    assert.deepEqual(rtc.spec.ports.filter((p) => p.protocol === 'UDP').map((p) => p.port), [50000, 50001, 50002]);
    assert.deepEqual(rtc.spec.ports.filter((p) => p.protocol === 'TCP').map((p) => p.port), [7891, 7892, 7893],
      'one ICE-TCP port per media worker');
    const spec = find('Deployment', 'parlor-parlor-media').spec.template.spec;
    assert.equal(spec.hostNetwork, false);
    assert.deepEqual(spec.containers[0].ports.filter((p) => p.protocol === 'UDP').map((p) => p.containerPort), [50000, 50001, 50002]);
    const [conf] = parseYaml(find('Secret', 'parlor-parlor-media').stringData['media.yaml']);
    assert.deepEqual(conf.rtc, {
      udp_port: 50000, tcp_port: 7891, workers: 3, use_external_ip: false, node_ip: '203.0.113.7',
      turn_servers: [
        { host: 'turn.example.org', port: 3478, protocol: 'udp', secret: 'turn-shared-secret' },
        { host: 'turn.example.org', port: 5349, protocol: 'tls', secret: 'turn-shared-secret' },
      ],
    });
    assert.equal(conf.turn, undefined, 'the chart runs coturn; parlor media\'s own TURN stays off');

    const env = envOf(find('Deployment', 'parlor-parlor-app').spec.template.spec.containers[0]);
    assert.equal(env.DATABASE_URL, 'postgresql://parlorapp:$(POSTGRES_PASSWORD)@parlor-parlor-postgresql:5432/visits');
    assert.equal(env.PARLOR_PUBLIC_LIVEKIT_URL, 'wss://media.example.org');
    assert.equal(env.PARLOR_TRUST_PROXY, '1');
    const ingress = find('Ingress', 'parlor-parlor');
    assert.equal(ingress.spec.rules[0].host, 'visits.example.org');
    assert.equal(ingress.spec.tls[0].secretName, 'parlor-tls');

    const turnConf = find('Secret', 'parlor-parlor-turn').stringData['turnserver.conf'];
    assert.match(turnConf, /^static-auth-secret=turn-shared-secret$/m);
    assert.match(turnConf, /^use-auth-secret$/m);
    assert.match(turnConf, /^realm=turn\.example\.org$/m);
    assert.match(turnConf, /^tls-listening-port=5349$/m);
    assert.match(turnConf, /^allowed-peer-ip=203\.0\.113\.7$/m);
    assert.match(turnConf, /^denied-peer-ip=10\.0\.0\.0-10\.255\.255\.255$/m);
    assert.ok(find('Deployment', 'parlor-parlor-turn'));
    const turnSvc = find('Service', 'parlor-parlor-turn');
    assert.deepEqual(turnSvc.spec.ports.map((p) => `${p.port}/${p.protocol}`), ['3478/UDP', '3478/TCP', '5349/TCP']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Helm chart with an external database, and values that cannot work refused with a clear error', () => {
  const external = rendered([...required, '--set', 'postgresql.enabled=false', '--set', 'app.databaseUrl=postgresql://u:p@db.example.org/parlor']);
  assert.ok(!external.has('StatefulSet', 'parlor-parlor-postgresql'));
  assert.equal(external.find('Secret', 'parlor-parlor-keys').stringData.DATABASE_URL, 'postgresql://u:p@db.example.org/parlor');
  const env = envOf(external.find('Deployment', 'parlor-parlor-app').spec.template.spec.containers[0]);
  assert.deepEqual(env.DATABASE_URL, { secretKeyRef: { name: 'parlor-parlor-keys', key: 'DATABASE_URL' } });
  assert.equal(env.POSTGRES_PASSWORD, undefined);

  const refused = [
    [['--set', 'postgresql.password=x'], /livekit\.apiKey is required/],
    [[...required], /postgresql\.password is required/],
    [[...required, '--set', 'postgresql.enabled=false'], /parlor app needs PostgreSQL here/],
    [[...required, '--set', 'postgresql.enabled=false', '--set', 'app.replicas=1'], /parlor app needs PostgreSQL here/],
    [[...required, '--set', 'postgresql.password=x', '--set', 'media.hostNetwork=false'], /media\.rtc\.nodeIp is required/],
    [[...required, '--set', 'postgresql.password=x', '--set', 'media.replicas=2'], /media\.replicas must be 1/],
    [[...required, '--set', 'postgresql.password=x', '--set', 'turn.enabled=true'], /turn\.secret is required/],
  ];
  for (const [args, message] of refused) {
    const r = render(args);
    assert.equal(r.status, 1, `${args.join(' ')} must fail`);
    assert.match(r.stderr, message);
  }
  const bySecret = rendered([...required, '--set', 'postgresql.enabled=false', '--set', 'app.existingSecret=my-db']);
  assert.deepEqual(envOf(bySecret.find('Deployment', 'parlor-parlor-app').spec.template.spec.containers[0]).DATABASE_URL,
    { secretKeyRef: { name: 'my-db', key: 'DATABASE_URL' } });
});
