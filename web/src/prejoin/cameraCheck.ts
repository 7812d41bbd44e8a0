// The camera check: send the camera and mic to the media server's echo endpoint
// (POST /echo/offer, raw SDP in and out), watch what comes back, and describe the connection in
// plain words. The media server is the LiveKit URL's host, spoken over http(s) instead of ws(s).

export interface CheckMeasurements {
  /** Round-trip time of the selected ICE candidate pair, milliseconds. */
  rttMs?: number;
  /** Packets lost on the way out and back, percent of those sent. */
  lossPercent?: number;
  /** Video frames decoded from the echo: the camera's picture made the round trip. */
  videoBack: boolean;
  /** Audio packets came back: the microphone's sound made the round trip. */
  audioBack: boolean;
}

export type CheckLevel = 'good' | 'fair' | 'poor';

export interface CheckSummary {
  level: CheckLevel;
  headline: string;
  details: string[];
}

/** http(s)://host[:port]/echo/offer for a ws(s):// (or http(s)://) LiveKit URL. */
export function echoOfferUrl(livekitUrl: string): string {
  const u = new URL(livekitUrl);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  else if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported media server URL ${livekitUrl}`);
  u.pathname = '/echo/offer';
  u.search = '';
  u.hash = '';
  return u.toString();
}

// Thresholds for video calls: below 150 ms round trip and 2 % loss a call feels natural; up to
// 400 ms and 8 % it works with occasional freezes; beyond that it breaks up.
const GOOD_RTT_MS = 150;
const FAIR_RTT_MS = 400;
const GOOD_LOSS_PERCENT = 2;
const FAIR_LOSS_PERCENT = 8;

export function summarizeCheck(m: CheckMeasurements): CheckSummary {
  const details: string[] = [];
  if (m.rttMs !== undefined) details.push(`Round trip: ${m.rttMs < 1 ? 'under 1' : Math.round(m.rttMs)} ms`);
  if (m.lossPercent !== undefined) details.push(`Packet loss: ${m.lossPercent.toFixed(1)} %`);
  details.push(m.videoBack ? 'Your camera picture reached us.' : 'Your camera picture did not come back.');
  details.push(m.audioBack ? 'Your microphone sound reached us.' : 'Your microphone sound did not come back.');

  const rtt = m.rttMs ?? 0;
  const loss = m.lossPercent ?? 0;
  if (!m.videoBack && !m.audioBack) {
    return { level: 'poor', headline: 'We could not get your video or sound through. Please check your internet connection.', details };
  }
  if (rtt <= GOOD_RTT_MS && loss <= GOOD_LOSS_PERCENT && m.videoBack && m.audioBack) {
    return { level: 'good', headline: 'Your connection looks good.', details };
  }
  if (rtt <= FAIR_RTT_MS && loss <= FAIR_LOSS_PERCENT) {
    return { level: 'fair', headline: 'Your connection is OK. The picture may sometimes be less sharp.', details };
  }
  return {
    level: 'poor',
    headline: 'Your connection is weak. The video may freeze; moving closer to your Wi-Fi or closing other apps can help.',
    details,
  };
}

/** Reads the numbers we need out of an RTCStatsReport. */
export function measure(stats: RTCStatsReport): CheckMeasurements {
  let rttMs: number | undefined;
  let sent = 0;
  let received = 0;
  let lost = 0;
  let videoFrames = 0;
  let audioPackets = 0;
  let selectedPairId: string | undefined;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) selectedPairId = s.selectedCandidatePairId;
  });
  stats.forEach((s) => {
    if (s.type === 'candidate-pair') {
      const selected = selectedPairId ? s.id === selectedPairId : s.nominated && s.state === 'succeeded';
      if (selected && typeof s.currentRoundTripTime === 'number') rttMs = s.currentRoundTripTime * 1000;
    } else if (s.type === 'outbound-rtp') {
      sent += s.packetsSent ?? 0;
    } else if (s.type === 'inbound-rtp') {
      received += s.packetsReceived ?? 0;
      lost += Math.max(0, s.packetsLost ?? 0);
      if (s.kind === 'video') videoFrames += s.framesDecoded ?? 0;
      if (s.kind === 'audio') audioPackets += s.packetsReceived ?? 0;
    }
  });
  const lossPercent = received + lost > 0 ? (100 * lost) / (received + lost) : sent > 0 ? 100 : undefined;
  return { rttMs, lossPercent, videoBack: videoFrames > 0, audioBack: audioPackets > 0 };
}

export class CameraCheckError extends Error {}

export interface CameraCheckOptions {
  /** How long to watch the echo once connected. */
  observeMs?: number;
  connectTimeoutMs?: number;
  fetchImpl?: typeof fetch;
  signal?: AbortSignal;
}

/** Runs the check with `stream`'s tracks (they are not stopped). Throws CameraCheckError kindly worded. */
export async function runCameraCheck(livekitUrl: string, stream: MediaStream, opts: CameraCheckOptions = {}):
  Promise<CheckMeasurements> {
  const { observeMs = 3000, connectTimeoutMs = 10000, fetchImpl = fetch, signal } = opts;
  const pc = new RTCPeerConnection();
  try {
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    if (stream.getTracks().length === 0) throw new CameraCheckError('Turn on your camera or microphone first, then try the check again.');
    await pc.setLocalDescription(await pc.createOffer());
    let res: Response;
    try {
      res = await fetchImpl(echoOfferUrl(livekitUrl), {
        method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription!.sdp, signal,
      });
    } catch {
      throw new CameraCheckError('We could not reach the video service to test your camera. You can still try to join.');
    }
    if (!res.ok) throw new CameraCheckError('The video service could not run the check right now. You can still try to join.');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    const deadline = Date.now() + connectTimeoutMs;
    while (pc.connectionState !== 'connected') {
      if (pc.connectionState === 'failed' || Date.now() > deadline) {
        throw new CameraCheckError('Your video could not get through to us. A firewall or a weak connection may be blocking it.');
      }
      if (signal?.aborted) throw new CameraCheckError('The check was stopped.');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, observeMs));
    return measure(await pc.getStats());
  } finally {
    pc.close();
  }
}
