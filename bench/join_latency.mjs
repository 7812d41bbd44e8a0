// Latency of POST /api/calls/join under concurrent load, against a real `parlor dev`.
// Usage: node bench/join_latency.mjs [concurrency=50] [requests=2000]
// Reports p50/p90/p99/max in milliseconds. Numbers go in issue notes, never in test assertions.
import { startDev, ApiSession } from '../tests/lib/dev.js';

const concurrency = Number(process.argv[2] ?? 50);
const total = Number(process.argv[3] ?? 2000);

const dev = await startDev();
try {
  const visitor = new ApiSession(dev.appUrl);
  await visitor.login('visitor@parlor.local', 'parlor-visitor');
  const latencies = [];
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const t0 = performance.now();
      const res = await visitor.post('/api/calls/join', { visitId: 1 });
      latencies.push(performance.now() - t0);
      if (res.status !== 200) failures++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
  console.log(JSON.stringify({
    binary: process.env.PARLOR_BIN ?? 'build/test/parlor', concurrency, requests: latencies.length,
    failures, throughput_per_s: Math.round(latencies.length / wall),
    p50_ms: pct(0.5), p90_ms: pct(0.9), p99_ms: pct(0.99), max_ms: latencies.at(-1).toFixed(2),
  }));
} finally {
  await dev.stop();
}
