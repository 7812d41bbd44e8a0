import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import type { LiveParticipant, LiveVisit } from '../api/types';
import { useSession } from '../auth/session';
import { formatTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { visitorNames } from '../lib/visits';
import { useAction } from './useAction';

const POLL_MS = 5000;

export function LiveVisits({ timeZone }: { timeZone?: string }) {
  const { api } = useSession();
  const live = useAsync(() => api.live(), [api]);
  useEffect(() => {
    const t = setInterval(() => void live.reload(), POLL_MS);
    return () => clearInterval(t);
  }, [live.reload]);
  const visits = live.data ?? [];
  return (
    <section id="live" className="card" aria-labelledby="live-title" data-testid="live-visits">
      <h2 id="live-title">Live now</h2>
      {live.error && <p role="alert" className="error">{live.error}</p>}
      {live.data && visits.length === 0 && <p>No visits are live right now.</p>}
      <ul className="plain-list">
        {visits.map((v) => <LiveVisitRow key={v.id} visit={v} timeZone={timeZone} onChanged={live.reload} />)}
      </ul>
    </section>
  );
}

function LiveVisitRow({ visit, timeZone, onChanged }: { visit: LiveVisit; timeZone?: string; onChanged(): void }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const { busy, error, run } = useAction();
  const [confirmEnd, setConfirmEnd] = useState(false);
  const [reason, setReason] = useState('');
  return (
    <li className="live-visit" data-testid="live-visit" data-visit-id={visit.id}>
      <div className="row spread">
        <div>
          <strong>{visit.residentName}</strong> with {visitorNames(visit)}
          <div className="muted">{formatTime(visit.start, timeZone)} – {formatTime(visit.end, timeZone)}
            {visit.privileged ? ' · privileged: not recorded, not monitored, encrypted' : ''}{visit.recorded ? ' · recorded' : ''}</div>
        </div>
        <div className="row">
          {!visit.privileged && (
            <button type="button" className="btn" onClick={() => navigate(`/visits/${visit.id}/monitor`)}
              data-testid="monitor-button">Monitor</button>
          )}
          {!confirmEnd && <button type="button" className="btn danger" onClick={() => setConfirmEnd(true)}>End visit</button>}
        </div>
      </div>
      {confirmEnd && (
        <form className="row confirm" onSubmit={(e) => {
          e.preventDefault();
          void run('end', () => api.endVisit(visit.id, reason.trim() || undefined), () => { setConfirmEnd(false); onChanged(); });
        }}>
          <label htmlFor={`end-reason-${visit.id}`}>Reason (shown to the participants)</label>
          <input id={`end-reason-${visit.id}`} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={200} />
          <button type="submit" className="btn danger" disabled={busy === 'end'}>Yes, end the visit now</button>
          <button type="button" className="btn" onClick={() => setConfirmEnd(false)}>Keep it going</button>
        </form>
      )}
      <ul className="participants" aria-label="Participants">
        {visit.participants.length === 0 && <li className="muted">Nobody has joined yet.</li>}
        {visit.participants.map((p) => (
          <ParticipantRow key={p.identity} p={p} busy={busy}
            onMute={(sid, muted) => void run(`mute-${p.identity}-${sid}`, () => api.mute(visit.id, p.identity, sid, muted), onChanged)}
            onRemove={() => void run(`remove-${p.identity}`, () => api.remove(visit.id, p.identity), onChanged)} />
        ))}
      </ul>
      {error && <p role="alert" className="error">{error}</p>}
    </li>
  );
}

function ParticipantRow({ p, busy, onMute, onRemove }:
  { p: LiveParticipant; busy: string | null; onMute(sid: string, muted: boolean): void; onRemove(): void }) {
  const audio = p.tracks.filter((t) => t.kind.toLowerCase() === 'audio');
  const video = p.tracks.filter((t) => t.kind.toLowerCase() === 'video');
  return (
    <li className="participant row spread" data-testid="live-participant">
      <span>
        <strong>{p.name || p.identity}</strong>{' '}
        <span className="muted">
          {audio.length ? (audio.every((t) => t.muted) ? 'mic muted' : 'mic on') : 'no mic'} ·{' '}
          {video.length ? (video.every((t) => t.muted) ? 'camera off' : 'camera on') : 'no camera'}
        </span>
      </span>
      <span className="row">
        {[...audio, ...video].map((t) => (
          <button key={t.sid} type="button" className="btn small" disabled={busy === `mute-${p.identity}-${t.sid}`}
            onClick={() => onMute(t.sid, !t.muted)}>
            {t.muted ? 'Unmute' : 'Mute'} {t.kind.toLowerCase() === 'audio' ? 'mic' : 'camera'}
            <span className="sr-only"> of {p.name || p.identity}</span>
          </button>
        ))}
        <button type="button" className="btn small danger" disabled={busy === `remove-${p.identity}`} onClick={onRemove}>
          Remove<span className="sr-only"> {p.name || p.identity}</span>
        </button>
      </span>
    </li>
  );
}
