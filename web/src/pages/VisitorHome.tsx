import { useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';
import type { Resident } from '../api/types';
import { useSession } from '../auth/session';
import { VisitCard } from '../components/VisitCard';
import { localInputValue } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { upcoming } from '../lib/visits';

export function VisitorHome() {
  const { api, config, user } = useSession();
  const tz = config?.facility.timeZone;
  const visits = useAsync(() => api.visits(), [api]);
  const residents = useAsync(() => api.residents(), [api]);
  const list = upcoming(visits.data ?? []);

  return (
    <div className="page" data-testid="visitor-home">
      <h1>Hello, {user?.name}</h1>
      <section aria-labelledby="upcoming-title" className="card">
        <h2 id="upcoming-title">Your upcoming visits</h2>
        {visits.error && <p role="alert" className="error">{visits.error}</p>}
        {visits.loading && !visits.data && <p role="status">Loading visits…</p>}
        {visits.data && list.length === 0 && <p>No visits yet. Request one below.</p>}
        <ul className="visit-list">
          {list.map((v) => <VisitCard key={v.id} visit={v} timeZone={tz} withWhom={v.residentName} />)}
        </ul>
      </section>
      <section aria-labelledby="residents-title" className="card">
        <h2 id="residents-title">Request a visit</h2>
        {residents.error && <p role="alert" className="error">{residents.error}</p>}
        {residents.data && residents.data.length === 0 && (
          <p>You are not approved to visit anyone yet. The facility staff will let you know.</p>
        )}
        <ul className="resident-list">
          {(residents.data ?? []).map((r) => (
            <RequestVisit key={r.id} resident={r} onRequested={visits.reload} />
          ))}
        </ul>
      </section>
    </div>
  );
}

function RequestVisit({ resident, onRequested }: { resident: Resident; onRequested: () => void }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [start, setStart] = useState(() => localInputValue(new Date(Date.now() + 24 * 3600_000)));
  const [duration, setDuration] = useState(30);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const idp = `req-${resident.id}`;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    setDone('');
    const when = new Date(start);
    if (Number.isNaN(when.getTime())) { setError('Please choose a date and time.'); return; }
    setBusy(true);
    try {
      await api.createVisit({ residentId: resident.id, start: when.toISOString(), durationMinutes: duration });
      setDone('Your request was sent. Staff will confirm it.');
      setOpen(false);
      onRequested();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="resident-row" data-testid="resident-row">
      <div>
        <strong>{resident.name}</strong> <span className="muted">{resident.unit}</span>
      </div>
      {!open && (
        <button type="button" className="btn" onClick={() => setOpen(true)} aria-expanded={false}
          aria-controls={idp}>Request a visit</button>
      )}
      {open && (
        <form id={idp} className="inline-form" onSubmit={submit}>
          <label htmlFor={`${idp}-start`}>Date and time</label>
          <input id={`${idp}-start`} type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required />
          <label htmlFor={`${idp}-dur`}>Length</label>
          <select id={`${idp}-dur`} value={duration} onChange={(e) => setDuration(Number(e.target.value))}>
            {[15, 30, 45, 60].map((m) => <option key={m} value={m}>{m} minutes</option>)}
          </select>
          <div className="row">
            <button type="submit" className="btn primary" disabled={busy}>{busy ? 'Sending…' : 'Send request'}</button>
            <button type="button" className="btn" onClick={() => setOpen(false)}>Cancel</button>
          </div>
        </form>
      )}
      {error && <p role="alert" className="error">{error}</p>}
      {done && <p role="status" className="ok">{done}</p>}
    </li>
  );
}
