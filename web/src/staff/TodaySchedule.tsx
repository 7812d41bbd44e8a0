import { useNavigate } from 'react-router-dom';
import { useSession } from '../auth/session';
import { formatTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { statusLabel, visitorNames } from '../lib/visits';
import { ScheduleVisitForm } from './ScheduleVisitForm';
import { useAction } from './useAction';

export function TodaySchedule({ date, timeZone }: { date: string; timeZone?: string }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const visits = useAsync(() => api.visits({ date }), [api, date]);
  const { busy, error, run } = useAction();
  const list = [...(visits.data ?? [])].sort((a, b) => a.start.localeCompare(b.start));
  return (
    <section id="today" className="card" aria-labelledby="today-title" data-testid="today-schedule">
      <h2 id="today-title">Today's schedule</h2>
      {visits.error && <p role="alert" className="error">{visits.error}</p>}
      {visits.data && list.length === 0 && <p>No visits today.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">Time</th><th scope="col">Resident</th><th scope="col">Visitors</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {list.map((v) => (
                <tr key={v.id} data-testid="schedule-row">
                  <td>{formatTime(v.start, timeZone)}–{formatTime(v.end, timeZone)}</td>
                  <td>{v.residentName}</td>
                  <td>{visitorNames(v)}</td>
                  <td><span className={`badge status-${v.status}`}>{statusLabel(v.status)}</span>{v.privileged && <span className="badge">Privileged</span>}
                    {v.recorded && <span className="badge" data-testid="recorded-badge">Recorded</span>}</td>
                  <td><div className="row">
                    {v.status === 'requested' && (
                      <button type="button" className="btn small" disabled={busy === `s${v.id}`}
                        onClick={() => void run(`s${v.id}`, () => api.scheduleVisit(v.id), visits.reload)}>Approve</button>
                    )}
                    {(v.status === 'scheduled' || v.status === 'live') && !v.privileged && (
                      <button type="button" className="btn small" onClick={() => navigate(`/visits/${v.id}/monitor`)}>Monitor</button>
                    )}
                    {v.recorded && ['live', 'completed', 'terminated'].includes(v.status) && (
                      <button type="button" className="btn small" onClick={() => navigate(`/recordings?visitId=${v.id}`)}>
                        Recordings<span className="sr-only"> of visit {v.id}</span>
                      </button>
                    )}
                    {(v.status === 'requested' || v.status === 'scheduled') && (
                      <button type="button" className="btn small" disabled={busy === `c${v.id}`}
                        onClick={() => void run(`c${v.id}`, () => api.cancelVisit(v.id), visits.reload)}>Cancel</button>
                    )}
                  </div></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      <ScheduleVisitForm onScheduled={visits.reload} />
    </section>
  );
}
