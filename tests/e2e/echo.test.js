// The camera check end to end: Chromium with fake devices offers audio + video to
// POST /echo/offer and must see its own video come back through parlor media's ICE-lite,
// DTLS-SRTP and RTP path, with frames advancing and audio arriving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMedia } from '../lib/media.js';
import { launchChromium, serveStatic } from '../lib/browser.js';

let media;
let site;
let browser;

before(async () => {
  media = await startMedia({ args: ['--dev'] });
  site = await serveStatic({ '/': { type: 'text/html', body: '<!doctype html><title>echo</title><video id="v" autoplay muted playsinline></video>' } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await media?.stop();
});

test('the browser sees its own camera come back through the media server', async () => {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log('page:', m.text()); });
  await page.goto(site.url);
  const result = await page.evaluate(async (base) => {
    const pc = new RTCPeerConnection();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    const dc = pc.createDataChannel('camera-check');
    const dataEcho = new Promise((resolve) => { dc.onmessage = (e) => resolve(e.data); });
    dc.onopen = () => dc.send('hello from the camera check');
    const remote = new MediaStream();
    pc.ontrack = (e) => remote.addTrack(e.track);
    const video = document.getElementById('v');
    video.srcObject = remote;
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(`${base}/echo/offer`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (!res.ok) return { error: `offer rejected: ${res.status} ${await res.text()}` };
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    const deadline = Date.now() + 15000;
    const waitFor = async (fn) => {
      while (Date.now() < deadline) { if (await fn()) return true; await new Promise((r) => setTimeout(r, 50)); }
      return false;
    };
    if (!await waitFor(() => pc.connectionState === 'connected')) return { error: `not connected: ${pc.connectionState}` };
    if (!await waitFor(() => video.videoWidth > 0)) return { error: 'no video came back' };
    const echoedText = await Promise.race([dataEcho, new Promise((r) => setTimeout(() => r(null), 10000))]);
    if (echoedText !== 'hello from the camera check') return { error: `data channel echo: ${echoedText}` };
    let frames = 0;
    const counting = () => video.requestVideoFrameCallback(() => { frames++; counting(); });
    counting();
    const t0 = video.currentTime;
    await new Promise((r) => setTimeout(r, 3000));  // observe 3 s of playback, as the issue asks
    const stats = await pc.getStats();
    let audioPackets = 0;
    let videoFramesDecoded = 0;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPackets = s.packetsReceived;
      if (s.type === 'inbound-rtp' && s.kind === 'video') videoFramesDecoded = s.framesDecoded;
    });
    window.echoPc = pc;  // closed after the server's stats are read: a closed session leaves the list
    return { width: video.videoWidth, height: video.videoHeight, frames, advanced: video.currentTime - t0, audioPackets, videoFramesDecoded };
  }, media.httpUrl);
  console.log('echo result', JSON.stringify(result));
  assert.ok(!result.error, result.error);
  assert.ok(result.width > 0, 'video has a size');
  assert.ok(result.frames >= 30, `frames kept coming for 3 s (got ${result.frames})`);
  assert.ok(result.advanced > 2, `playback advanced ${result.advanced}s`);
  assert.ok(result.audioPackets > 50, `audio came back (${result.audioPackets} packets)`);
  const stats = await (await fetch(`${media.httpUrl}/echo/stats`)).json();
  await page.evaluate(() => window.echoPc.close());
  assert.ok(stats.sessions.length >= 1, `the server lists the echo session: ${JSON.stringify(stats)}`);
  for (const s of stats.sessions) assert.equal(s.srtpErrors, 0, 'no SRTP errors on the server');
  assert.ok(stats.sessions.some((s) => s.dataEchoed >= 1), 'the data channel message went through the server');
});

test('a bad offer is a clear 400 and the server goes on', async () => {
  let res = await fetch(`${media.httpUrl}/echo/offer`, { method: 'POST', body: 'not sdp' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /invalid SDP/);
  res = await fetch(`${media.httpUrl}/echo/offer`, { method: 'POST', body: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n' });
  assert.equal(res.status, 400);
  assert.equal((await fetch(media.httpUrl)).status, 200);
});
