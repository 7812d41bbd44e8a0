import { useEffect, useState } from 'react';

/** A live level meter for the stream's microphone (Web Audio analyser, RMS of the waveform). */
export function MicLevelMeter({ stream, enabled }: { stream: MediaStream | null; enabled: boolean }) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    const track = stream?.getAudioTracks()[0];
    if (!track || typeof AudioContext === 'undefined') { setLevel(0); return; }
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const buf = new Uint8Array(analyser.fftSize);
    let raf = 0;
    let last = 0;
    const tick = (t: number) => {
      raf = requestAnimationFrame(tick);
      if (t - last < 80) return; // ~12 updates a second is plenty for a meter
      last = t;
      analyser.getByteTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) { const x = (v - 128) / 128; sum += x * x; }
      const rms = Math.sqrt(sum / buf.length);
      setLevel(Math.min(100, Math.round(rms * 300)));
    };
    raf = requestAnimationFrame(tick);
    void ctx.resume().catch(() => {});
    return () => { cancelAnimationFrame(raf); source.disconnect(); void ctx.close(); };
  }, [stream]);

  const hasMic = !!stream?.getAudioTracks().length;
  return (
    <div className="mic-meter">
      <span id="mic-meter-label">Microphone level</span>
      <div className="meter" role="meter" aria-labelledby="mic-meter-label" aria-valuemin={0} aria-valuemax={100}
        aria-valuenow={level} data-testid="mic-level">
        <div className="meter-fill" style={{ width: `${level}%` }} />
      </div>
      <span className="muted small">{hasMic ? (level > 3 ? 'We can hear you.' : 'Say something to test your microphone.') : enabled ? 'Starting microphone…' : 'Microphone is off.'}</span>
    </div>
  );
}
