import { useNavigate } from 'react-router-dom';
import type { Visit } from '../api/types';
import { formatDateTime, formatTime } from '../lib/time';
import { canJoin, statusLabel, visitorNames } from '../lib/visits';

/** One visit with a Join button when it can be joined. `big` for the resident kiosk. */
export function VisitCard({ visit, timeZone, withWhom, big = false }:
  { visit: Visit; timeZone?: string; withWhom: string; big?: boolean }) {
  const navigate = useNavigate();
  const joinable = canJoin(visit);
  return (
    <li className={`visit-card${big ? ' big' : ''}`} data-testid="visit-card" data-visit-id={visit.id}>
      <div className="visit-info">
        <strong className="visit-with">{withWhom}</strong>
        <span>
          {formatDateTime(visit.start, timeZone)} – {formatTime(visit.end, timeZone)}
          {' '}({visit.durationMinutes} min)
        </span>
        <span className={`badge status-${visit.status}`}>{statusLabel(visit.status)}</span>
        {visit.recorded && <span className="badge">Recorded</span>}
      </div>
      {joinable && (
        <button type="button" className={`btn primary${big ? ' huge' : ''}`} data-testid="join-button"
          onClick={() => navigate(`/visits/${visit.id}/join`)}
          aria-label={`Join visit with ${withWhom}`}>
          Join
        </button>
      )}
    </li>
  );
}

export { visitorNames };
