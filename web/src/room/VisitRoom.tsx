// The room's frame, the same for every provider: who, countdown, recorded notice, banners, Leave.
import { useEffect, useState } from 'react';
import type { Visit } from '../api/types';
import { parseParlorMessage } from '../lib/parlorMessages';
import { formatTime } from '../lib/time';
import { PRIVILEGED_NOTICE, privacyNotice, visitorNames } from '../lib/visits';
import type { VideoRoomHandle } from '../video/BaseVideoProvider';
import { Countdown, useSecondsLeft, WARNING_SECONDS } from './Countdown';
import { RoomStage } from './RoomStage';

// How long after the scheduled end we wait for the server to close the room before leaving.
const TIME_UP_GRACE_SECONDS = 30;

interface Props {
  handle: VideoRoomHandle;
  visit: Visit;
  monitor: boolean;
  timeZone?: string;
  onLeave(): void;
  onTimeUp(): void;
}

export function VisitRoom({ handle, visit, monitor, timeZone, onLeave, onTimeUp }: Props) {
  const [reconnecting, setReconnecting] = useState(false);
  const [endsAt, setEndsAt] = useState(visit.end);
  const [warned, setWarned] = useState(false);
  const [encrypted, setEncrypted] = useState(() => handle.isEncrypted());
  const [undecryptable, setUndecryptable] = useState(false);
  const secondsLeft = useSecondsLeft(endsAt);

  useEffect(() => {
    const offs = [
      handle.on('reconnecting', () => setReconnecting(true)),
      handle.on('reconnected', () => setReconnecting(false)),
      handle.on('encryption', setEncrypted),
      handle.on('decryptionError', () => setUndecryptable(true)),
      handle.on('data', (payload, topic, fromServer) => {
        const m = parseParlorMessage(payload, topic, fromServer);
        if (m?.type === 'visit_warning') {
          setWarned(true);
          if (m.endsAt) setEndsAt(m.endsAt);
          else if (m.secondsLeft !== undefined) setEndsAt(new Date(Date.now() + m.secondsLeft * 1000).toISOString());
        }
      }),
    ];
    setEncrypted(handle.isEncrypted());
    return () => offs.forEach((off) => off());
  }, [handle]);

  useEffect(() => {
    if (secondsLeft < -TIME_UP_GRACE_SECONDS) onTimeUp();
  }, [secondsLeft, onTimeUp]);

  const soon = warned || secondsLeft <= WARNING_SECONDS;
  const others = visitorNames(visit);
  return (
    <div className="room" data-testid="video-room">
      <header className="room-bar">
        <div className="room-title">
          <strong>{monitor ? `Monitoring: ${visit.residentName} with ${others}` : `Visit: ${visit.residentName} and ${others}`}</strong>
          <span className="muted">until {formatTime(endsAt, timeZone)}</span>
        </div>
        {encrypted && (
          <span className="badge encrypted" data-testid="encrypted-indicator"
            title="Sound and video are encrypted on this device; only the people in this visit can see and hear them.">
            <span aria-hidden="true">🔒</span> Encrypted
          </span>
        )}
        <Countdown secondsLeft={secondsLeft} />
        <button type="button" className="btn danger" onClick={onLeave} data-testid="leave-button">
          {monitor ? 'Stop monitoring' : 'Leave'}
        </button>
      </header>
      {visit.privileged ? (
        <p className="banner privileged" role="note" data-testid="privileged-notice">{PRIVILEGED_NOTICE}</p>
      ) : visit.recorded && (
        <p className="banner recorded" role="note" data-testid="recorded-notice">
          <span aria-hidden="true">●</span> {privacyNotice(visit, 'during')}
        </p>
      )}
      {visit.privileged && !encrypted && (
        <p className="banner warn" role="status" data-testid="encryption-pending">Turning on encryption…</p>
      )}
      {undecryptable && (
        <p className="banner warn" role="alert" data-testid="decryption-warning">
          Some sound or video in this visit could not be decrypted: someone in the room does not have this visit's key.
        </p>
      )}
      {monitor && <p className="banner info" role="note">You are monitoring. The participants cannot see or hear you.</p>}
      {reconnecting && (
        <p className="banner warn" role="status" data-testid="reconnecting-banner">Connection lost. Reconnecting…</p>
      )}
      {soon && secondsLeft > 0 && (
        <p className="banner warn" role="alert" data-testid="time-warning">
          The visit ends in {Math.max(1, Math.ceil(secondsLeft / 60))} minute{Math.ceil(secondsLeft / 60) > 1 ? 's' : ''}.{monitor ? '' : ' Please start saying goodbye.'}
        </p>
      )}
      {secondsLeft <= 0 && <p className="banner warn" role="status">The visit time is over. It will close shortly.</p>}
      <RoomStage handle={handle} monitor={monitor} />
    </div>
  );
}
