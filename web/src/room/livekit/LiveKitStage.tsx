// The LiveKit side of the video room: participant tiles, remote audio, mic/camera toggles and
// device switching. Everything around it (countdown, banners, Leave, end screen) is provider-agnostic.
import '@livekit/components-styles';
import {
  ConnectionQualityIndicator, ParticipantName, ParticipantTile, RoomAudioRenderer, RoomContext, StartAudio,
  TrackMutedIndicator, VideoTrack, isTrackReference, useLocalParticipant, useMediaDeviceSelect, useTracks,
  type TrackReferenceOrPlaceholder,
} from '@livekit/components-react';
import { Track, type Room } from 'livekit-client';
import { useState } from 'react';

export function LiveKitStage({ room, monitor }: { room: Room; monitor: boolean }) {
  return (
    <RoomContext.Provider value={room}>
      <div className="stage" data-lk-theme="default">
        <Tiles monitor={monitor} />
        <RoomAudioRenderer />
        <StartAudio label="Click to hear the visit" className="btn primary start-audio" />
      </div>
      {!monitor && <MediaControls />}
    </RoomContext.Provider>
  );
}

function Tiles({ monitor }: { monitor: boolean }) {
  const refs = useTracks([{ source: Track.Source.Camera, withPlaceholder: true }], { onlySubscribed: false });
  const remote = refs.filter((r) => !r.participant.isLocal);
  const local = refs.find((r) => r.participant.isLocal);
  return (
    <div className={`tiles count-${Math.min(remote.length, 4)}`}>
      {remote.length === 0 && (
        <div className="waiting" data-testid="waiting" role="status">
          {monitor ? 'Nobody is in this visit right now.' : 'Waiting for the other person to join…'}
        </div>
      )}
      {remote.map((r) => (
        <div key={`${r.participant.identity}`} className="tile-wrap remote" data-testid="remote-video"
          data-identity={r.participant.identity}>
          <Tile trackRef={r} />
        </div>
      ))}
      {local && !monitor && (
        <div className="tile-wrap self" data-testid="local-video" aria-label="Your camera">
          <Tile trackRef={local} self />
        </div>
      )}
    </div>
  );
}

function Tile({ trackRef, self = false }: { trackRef: TrackReferenceOrPlaceholder; self?: boolean }) {
  const hasVideo = isTrackReference(trackRef) && !trackRef.publication.isMuted;
  return (
    <ParticipantTile trackRef={trackRef} disableSpeakingIndicator={false}>
      {hasVideo ? (
        <VideoTrack trackRef={trackRef} className={self ? 'mirror' : undefined} />
      ) : (
        <div className="tile-placeholder" aria-hidden="true">{initials(trackRef.participant.name || trackRef.participant.identity)}</div>
      )}
      <div className="lk-participant-metadata">
        <div className="lk-participant-metadata-item">
          <TrackMutedIndicator trackRef={{ participant: trackRef.participant, source: Track.Source.Microphone }} show="muted" />
          {self ? <span>You</span> : <ParticipantName />}
        </div>
        <ConnectionQualityIndicator className="lk-participant-metadata-item" data-testid="connection-quality" />
      </div>
    </ParticipantTile>
  );
}

function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]!.toUpperCase()).join('') || '?';
}

function MediaControls() {
  const { isMicrophoneEnabled, isCameraEnabled, localParticipant, lastCameraError, lastMicrophoneError } = useLocalParticipant();
  const [busy, setBusy] = useState<'mic' | 'cam' | null>(null);
  const [error, setError] = useState('');
  const [showDevices, setShowDevices] = useState(false);

  async function toggle(kind: 'mic' | 'cam') {
    setBusy(kind);
    setError('');
    try {
      if (kind === 'mic') await localParticipant.setMicrophoneEnabled(!isMicrophoneEnabled);
      else await localParticipant.setCameraEnabled(!isCameraEnabled);
    } catch {
      setError(kind === 'mic' ? 'Your microphone could not be turned on.' : 'Your camera could not be turned on.');
    } finally {
      setBusy(null);
    }
  }

  const deviceError = lastCameraError || lastMicrophoneError;
  return (
    <div className="controls" role="toolbar" aria-label="Call controls">
      <button type="button" className={`btn ctl${isMicrophoneEnabled ? '' : ' off'}`} aria-pressed={!isMicrophoneEnabled}
        onClick={() => toggle('mic')} disabled={busy === 'mic'} data-testid="toggle-mic">
        {isMicrophoneEnabled ? 'Mute' : 'Unmute'}
      </button>
      <button type="button" className={`btn ctl${isCameraEnabled ? '' : ' off'}`} aria-pressed={!isCameraEnabled}
        onClick={() => toggle('cam')} disabled={busy === 'cam'} data-testid="toggle-camera">
        {isCameraEnabled ? 'Stop camera' : 'Start camera'}
      </button>
      <button type="button" className="btn ctl" aria-expanded={showDevices} aria-controls="device-panel"
        onClick={() => setShowDevices((s) => !s)}>
        Devices
      </button>
      {showDevices && (
        <div id="device-panel" className="device-panel">
          <DeviceSelect kind="videoinput" label="Camera" />
          <DeviceSelect kind="audioinput" label="Microphone" />
          <DeviceSelect kind="audiooutput" label="Speaker" />
        </div>
      )}
      {(error || deviceError) && (
        <p className="error" role="alert">{error || 'There is a problem with your camera or microphone.'}</p>
      )}
    </div>
  );
}

function DeviceSelect({ kind, label }: { kind: MediaDeviceKind; label: string }) {
  const { devices, activeDeviceId, setActiveMediaDevice } = useMediaDeviceSelect({ kind });
  const id = `room-${kind}`;
  if (kind === 'audiooutput' && devices.length === 0) return null; // browsers without output selection
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={activeDeviceId} onChange={(e) => void setActiveMediaDevice(e.target.value)}>
        {devices.map((d, i) => <option key={d.deviceId || i} value={d.deviceId}>{d.label || `${label} ${i + 1}`}</option>)}
      </select>
    </div>
  );
}
