// A test page running the official livekit-client (UMD build from node_modules) with default
// options, exposing join/inspection helpers on window for Playwright.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccessToken } from 'livekit-server-sdk';
import { serveStatic, launchChromium } from './browser.js';
import { devKey, devSecret, startMedia, waitFor } from './media.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const livekitUmd = readFileSync(path.join(repoRoot, 'node_modules/livekit-client/dist/livekit-client.umd.js'), 'utf8');

// The page: joins with livekit-client's default options and exposes what the test checks.
export const pageHtml = `<!doctype html><meta charset="utf-8"><title>room</title>
<script>
// Every peer connection the SDK makes, so the test can read the ICE pair it selected.
window.peerConnections = [];
window.RTCPeerConnection = class extends window.RTCPeerConnection {
  constructor(...args) { super(...args); window.peerConnections.push(this); }
};
</script>
<script src="/livekit-client.umd.js"></script>
<div id="videos"></div>
<script>
const { Room, RoomEvent, Track } = LivekitClient;
window.state = { remoteVideo: null, remoteAudio: false, muted: {}, disconnected: [], errors: [], data: [], speakers: [] };
window.sendText = (text) => window.room.localParticipant.publishData(new TextEncoder().encode(text), { reliable: true });
window.join = async (url, token, options = {}) => {
  window.state.joinStarted = Date.now();
  const room = new Room(options.room || {});
  window.room = room;
  room.on(RoomEvent.TrackSubscribed, (track, pub, participant) => {
    if (track.kind === 'video') {
      const el = track.attach();
      el.muted = true;
      el.dataset.identity = participant.identity;
      document.getElementById('videos').appendChild(el);
      window.state.remoteVideo = el;
    } else if (track.kind === 'audio') {
      window.state.remoteAudio = true;
    }
  });
  room.on(RoomEvent.TrackMuted, (pub, participant) => {
    if (participant !== room.localParticipant) window.state.muted[pub.trackSid] = true;
  });
  room.on(RoomEvent.TrackUnmuted, (pub, participant) => {
    if (participant !== room.localParticipant) window.state.muted[pub.trackSid] = false;
  });
  room.on(RoomEvent.DataReceived, (payload, participant) => {
    window.state.data.push({ text: new TextDecoder().decode(payload), from: participant?.identity });
  });
  room.on(RoomEvent.ActiveSpeakersChanged, (speakers) => window.state.speakers.push(speakers.map((s) => s.identity)));
  room.on(RoomEvent.ParticipantDisconnected, (p) => window.state.disconnected.push({ identity: p.identity, at: Date.now() }));
  window.state.events = [];
  for (const e of [RoomEvent.Reconnecting, RoomEvent.Reconnected, RoomEvent.SignalReconnecting, RoomEvent.Disconnected]) {
    room.on(e, () => window.state.events.push({ event: e, at: Date.now() - window.state.joinStarted }));
  }
  await room.connect(url, token, options.connect || {});
  window.state.connectedMs = Date.now() - window.state.joinStarted;
  await room.localParticipant.enableCameraAndMicrophone();
  return { sid: room.localParticipant.sid, remotes: room.remoteParticipants.size };
};
// The selected ICE candidate pair of every connected peer connection: the local candidate's type
// (host, srflx, relay), its protocol and, for relay candidates, how the browser reaches the TURN
// server; the remote candidate's protocol and port.
window.selectedPairs = async () => {
  const pairs = [];
  for (const pc of window.peerConnections) {
    if (pc.connectionState === 'closed') continue;
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    stats.forEach((s) => {
      if (s.type !== 'transport' || !s.selectedCandidatePairId) return;
      const pair = byId.get(s.selectedCandidatePairId);
      const local = byId.get(pair?.localCandidateId);
      const remote = byId.get(pair?.remoteCandidateId);
      if (!local || !remote) return;
      pairs.push({
        state: pc.connectionState,
        localType: local.candidateType, localProtocol: local.protocol, relayProtocol: local.relayProtocol,
        remoteType: remote.candidateType, remoteProtocol: remote.protocol, remotePort: remote.port,
      });
    });
  }
  return pairs;
};
window.videoProgress = async () => {
  const v = window.state.remoteVideo;
  if (!v) return null;
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
  return { width: v.videoWidth, height: v.videoHeight, frames: q.totalVideoFrames || 0, time: v.currentTime };
};
window.remoteAudioPackets = async () => {
  let packets = 0;
  for (const p of window.room.remoteParticipants.values()) {
    for (const pub of p.audioTrackPublications.values()) {
      const stats = await pub.track?.receiver?.getStats();
      stats?.forEach((s) => { if (s.type === 'inbound-rtp') packets += s.packetsReceived; });
    }
  }
  return packets;
};
// The publisher's own simulcast layers as Chromium sends them: rid, resolution, bytes sent.
window.publisherLayers = async () => {
  const layers = [];
  for (const pub of window.room.localParticipant.videoTrackPublications.values()) {
    const stats = await pub.track?.sender?.getStats();
    stats?.forEach((s) => {
      if (s.type === 'outbound-rtp') layers.push({ rid: s.rid, width: s.frameWidth || 0, bytes: s.bytesSent, active: s.active !== false, limitation: s.qualityLimitationReason });
    });
  }
  return layers;
};
// The codec (mime type) of every remote video track as decoded, and of the local video as sent.
window.videoCodecs = async () => {
  const codecOf = (stats, type) => {
    let mime = null;
    stats?.forEach((s) => { if (s.type === type && s.codecId) mime = stats.get(s.codecId)?.mimeType ?? mime; });
    return mime;
  };
  const remote = [];
  for (const p of window.room.remoteParticipants.values()) {
    for (const pub of p.videoTrackPublications.values()) {
      remote.push({ identity: p.identity, announced: pub.mimeType, decoded: codecOf(await pub.track?.receiver?.getStats(), 'inbound-rtp') });
    }
  }
  const local = [];
  for (const pub of window.room.localParticipant.videoTrackPublications.values()) {
    local.push({ announced: pub.mimeType, sent: codecOf(await pub.track?.sender?.getStats(), 'outbound-rtp') });
  }
  return { remote, local };
};
// Kinds of remote tracks for which the browser holds a remote-outbound-rtp entry, i.e. has
// received RTCP sender reports (what it needs to keep audio and video in sync).
window.remoteSenderReports = async () => {
  const kinds = [];
  for (const p of window.room.remoteParticipants.values()) {
    for (const pub of p.trackPublications.values()) {
      const stats = await pub.track?.receiver?.getStats();
      stats?.forEach((s) => { if (s.type === 'remote-outbound-rtp' && s.reportsSent > 0) kinds.push(pub.kind); });
    }
  }
  return kinds;
};
</script>`;


/** Waits until `page` decodes the other participant's video, its frames advance, and audio arrives. */
export async function expectMediaFlowing(page, who) {
  await waitFor(async () => (await page.evaluate(() => window.videoProgress()))?.width > 0,
    { timeoutMs: 20000, intervalMs: 100, what: `${who} never decoded remote video` });
  const first = await page.evaluate(() => window.videoProgress());
  await waitFor(async () => (await page.evaluate(() => window.videoProgress())).frames > first.frames + 20,
    { timeoutMs: 10000, intervalMs: 100, what: `${who}: remote video frames stopped advancing` });
  await waitFor(async () => (await page.evaluate(() => window.remoteAudioPackets())) > 20,
    { timeoutMs: 10000, intervalMs: 100, what: `${who} receives no audio` });
}

/** Serves the page and the SDK; resolves to { url, close() }. */
export function serveLivekitPage() {
  return serveStatic({
    '/': { type: 'text/html', body: pageHtml },
    '/livekit-client.umd.js': { type: 'text/javascript', body: livekitUmd },
  });
}

/** A join token for the dev key. */
export function devToken(identity, room, grant = {}) {
  const at = new AccessToken(devKey, devSecret, { identity, name: identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room, ...grant });
  return at.toJwt();
}

/**
 * `parlor media` (with `mediaArgs`), the page server and Chromium, for one test file.
 * Resolves to { media, site, browser, openPage(), stop() }.
 */
export async function startRoomEnvironment(mediaArgs = ['--dev'], { chromiumArgs = [] } = {}) {
  const media = await startMedia({ args: mediaArgs });
  const site = await serveLivekitPage();
  const browser = await launchChromium(chromiumArgs);
  return {
    media,
    site,
    browser,
    async openPage() {
      const page = await (await browser.newContext()).newPage();
      page.on('console', (m) => { if (m.type() === 'error') console.log('page:', m.text()); });
      page.on('pageerror', (e) => console.log('pageerror:', e.message));
      await page.goto(site.url);
      return page;
    },
    async stop() {
      await browser.close();
      await site.close();
      await media.stop();
    },
  };
}
