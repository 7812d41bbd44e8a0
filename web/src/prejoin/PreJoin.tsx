import { useEffect, useRef, useState, type FormEvent } from 'react';
import { CameraCheck } from './CameraCheck';
import { MicLevelMeter } from './MicLevelMeter';
import { deviceLabel, useMediaDevices } from './useMediaDevices';
import { usePreviewStream, type PreviewChoice } from './usePreviewStream';

export type JoinChoices = PreviewChoice;

interface Props {
  title: string;
  subtitle?: string;
  livekitUrl?: string;
  busy: boolean;
  error: string;
  notice?: string;
  /** Join cannot work in this browser; the reason is in `error`. */
  joinDisabled?: boolean;
  onJoin(choices: JoinChoices): void;
  onCancel(): void;
}

/** The screen before a visit: preview, mic level, device choice, camera check, Join. */
export function PreJoin({ title, subtitle, livekitUrl, busy, error, notice, joinDisabled = false, onJoin, onCancel }: Props) {
  const [choice, setChoice] = useState<PreviewChoice>({ videoEnabled: true, audioEnabled: true });
  const { stream, error: mediaError } = usePreviewStream(choice);
  const devices = useMediaDevices(stream);
  const cameras = devices.filter((d) => d.kind === 'videoinput');
  const mics = devices.filter((d) => d.kind === 'audioinput');
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (video.current) video.current.srcObject = stream && stream.getVideoTracks().length ? stream : null;
  }, [stream]);

  // Remember the device actually opened so Join uses the same one.
  const activeVideo = stream?.getVideoTracks()[0]?.getSettings().deviceId;
  const activeAudio = stream?.getAudioTracks()[0]?.getSettings().deviceId;

  function submit(e: FormEvent) {
    e.preventDefault();
    onJoin({ ...choice, videoDeviceId: choice.videoDeviceId ?? activeVideo, audioDeviceId: choice.audioDeviceId ?? activeAudio });
  }

  const hasVideo = !!stream?.getVideoTracks().length;
  return (
    <div className="page prejoin" data-testid="prejoin">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {notice && <p className="notice" role="note" data-testid="prejoin-notice">{notice}</p>}
      <div className="prejoin-grid">
        <div className="preview card">
          <div className="preview-frame">
            <video ref={video} autoPlay muted playsInline data-testid="preview-video" aria-label="Your camera preview"
              className={hasVideo ? '' : 'hidden'} />
            {!hasVideo && <div className="preview-off">{choice.videoEnabled ? 'Starting camera…' : 'Camera is off'}</div>}
          </div>
          <MicLevelMeter stream={stream} enabled={choice.audioEnabled} />
        </div>
        <form className="card prejoin-form" onSubmit={submit}>
          <div className="row">
            <button type="button" className={`btn toggle${choice.videoEnabled ? ' on' : ''}`} aria-pressed={choice.videoEnabled}
              onClick={() => setChoice((c) => ({ ...c, videoEnabled: !c.videoEnabled }))}>
              {choice.videoEnabled ? 'Camera on' : 'Camera off'}
            </button>
            <button type="button" className={`btn toggle${choice.audioEnabled ? ' on' : ''}`} aria-pressed={choice.audioEnabled}
              onClick={() => setChoice((c) => ({ ...c, audioEnabled: !c.audioEnabled }))}>
              {choice.audioEnabled ? 'Microphone on' : 'Microphone off'}
            </button>
          </div>
          <label htmlFor="camera-select">Camera</label>
          <select id="camera-select" value={choice.videoDeviceId ?? activeVideo ?? ''} disabled={!cameras.length}
            onChange={(e) => setChoice((c) => ({ ...c, videoDeviceId: e.target.value || undefined }))}>
            {!cameras.length && <option value="">No camera found</option>}
            {cameras.map((d, i) => <option key={d.deviceId || i} value={d.deviceId}>{deviceLabel(d, i)}</option>)}
          </select>
          <label htmlFor="mic-select">Microphone</label>
          <select id="mic-select" value={choice.audioDeviceId ?? activeAudio ?? ''} disabled={!mics.length}
            onChange={(e) => setChoice((c) => ({ ...c, audioDeviceId: e.target.value || undefined }))}>
            {!mics.length && <option value="">No microphone found</option>}
            {mics.map((d, i) => <option key={d.deviceId || i} value={d.deviceId}>{deviceLabel(d, i)}</option>)}
          </select>
          {mediaError && <p className="error" role="alert" data-testid="media-error">{mediaError}</p>}
          <CameraCheck livekitUrl={livekitUrl} stream={stream} />
          {error && <p className="error" role="alert" data-testid="join-error">{error}</p>}
          <div className="row join-row">
            <button type="submit" className="btn primary huge" disabled={busy || joinDisabled} data-testid="join-now">
              {busy ? 'Joining…' : 'Join now'}
            </button>
            <button type="button" className="btn" onClick={onCancel}>Back</button>
          </div>
        </form>
      </div>
    </div>
  );
}
