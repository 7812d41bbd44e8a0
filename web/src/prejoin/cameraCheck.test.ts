import { describe, expect, it } from 'vitest';
import { echoOfferUrl, measure, summarizeCheck } from './cameraCheck';

describe('echoOfferUrl', () => {
  it('turns ws into http and wss into https on the same host', () => {
    expect(echoOfferUrl('ws://127.0.0.1:7880')).toBe('http://127.0.0.1:7880/echo/offer');
    expect(echoOfferUrl('wss://media.example.org/')).toBe('https://media.example.org/echo/offer');
    expect(echoOfferUrl('wss://media.example.org/rtc?x=1')).toBe('https://media.example.org/echo/offer');
  });
  it('rejects other schemes', () => {
    expect(() => echoOfferUrl('ftp://x')).toThrow();
  });
});

function report(entries: Record<string, unknown>[]): RTCStatsReport {
  const m = new Map(entries.map((e) => [e.id as string, e]));
  return m as unknown as RTCStatsReport;
}

describe('measure', () => {
  it('reads RTT from the selected pair and loss from what came back', () => {
    const m = measure(report([
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', currentRoundTripTime: 0.5 },
      { id: 'P2', type: 'candidate-pair', currentRoundTripTime: 0.042 },
      { id: 'O', type: 'outbound-rtp', packetsSent: 500 },
      { id: 'IV', type: 'inbound-rtp', kind: 'video', packetsReceived: 390, packetsLost: 10, framesDecoded: 80 },
      { id: 'IA', type: 'inbound-rtp', kind: 'audio', packetsReceived: 100, packetsLost: 0 },
    ]));
    expect(m.rttMs).toBeCloseTo(42);
    expect(m.lossPercent).toBeCloseTo(2);
    expect(m.videoBack).toBe(true);
    expect(m.audioBack).toBe(true);
  });
  it('counts everything lost when nothing came back', () => {
    const m = measure(report([{ id: 'O', type: 'outbound-rtp', packetsSent: 10 }]));
    expect(m.lossPercent).toBe(100);
    expect(m.videoBack).toBe(false);
  });
});

describe('summarizeCheck', () => {
  it('says the connection looks good for a fast clean echo', () => {
    const s = summarizeCheck({ rttMs: 30, lossPercent: 0, videoBack: true, audioBack: true });
    expect(s.level).toBe('good');
    expect(s.headline).toBe('Your connection looks good.');
    expect(s.details).toContain('Round trip: 30 ms');
  });
  it('is fair for a slower or slightly lossy link', () => {
    expect(summarizeCheck({ rttMs: 250, lossPercent: 1, videoBack: true, audioBack: true }).level).toBe('fair');
    expect(summarizeCheck({ rttMs: 50, lossPercent: 5, videoBack: true, audioBack: true }).level).toBe('fair');
  });
  it('is poor for a bad link or when nothing came back', () => {
    expect(summarizeCheck({ rttMs: 900, lossPercent: 0, videoBack: true, audioBack: true }).level).toBe('poor');
    expect(summarizeCheck({ rttMs: 20, lossPercent: 20, videoBack: true, audioBack: true }).level).toBe('poor');
    expect(summarizeCheck({ videoBack: false, audioBack: false }).level).toBe('poor');
  });
});
