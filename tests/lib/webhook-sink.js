// A tiny HTTP server that collects webhook requests (raw body + Authorization header),
// on a free loopback port.
import http from 'node:http';

export async function startWebhookSink({ status = 200 } = {}) {
  const received = [];
  let answer = status;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(typeof answer === 'function' ? answer(received.length) : answer);
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/webhooks/livekit`,
    received,
    setStatus(s) { answer = s; },
    close: () => new Promise((r) => server.close(r)),
  };
}
