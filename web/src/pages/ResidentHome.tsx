import { useEffect } from 'react';
import { useSession } from '../auth/session';
import { VisitCard } from '../components/VisitCard';
import { formatDateTime, isoDate } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { upcoming, visitorNames } from '../lib/visits';

/** Kiosk-friendly: big text, big buttons, today's visits only; refreshes itself. */
export function ResidentHome() {
  const { api, config, user } = useSession();
  const tz = config?.facility.timeZone;
  const today = isoDate(new Date(), tz);
  const visits = useAsync(() => api.visits({ date: today }), [api, today]);
  useEffect(() => {
    const t = setInterval(() => void visits.reload(), 30_000);
    return () => clearInterval(t);
  }, [visits.reload]);
  const list = upcoming(visits.data ?? []);

  return (
    <div className="page kiosk" data-testid="resident-home">
      <h1>Hello, {user?.name}</h1>
      <p className="kiosk-date">{formatDateTime(new Date().toISOString(), tz)}</p>
      <section aria-labelledby="today-title">
        <h2 id="today-title">Your visits today</h2>
        {visits.error && <p role="alert" className="error">{visits.error}</p>}
        {visits.data && list.length === 0 && <p className="kiosk-empty">No more visits today.</p>}
        <ul className="visit-list">
          {list.map((v) => (
            <VisitCard key={v.id} visit={v} timeZone={tz} withWhom={visitorNames(v) || 'Visitor'} big />
          ))}
        </ul>
      </section>
    </div>
  );
}
