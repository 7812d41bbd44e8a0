import { useState, type FormEvent } from 'react';
import { useSession } from '../auth/session';
import { localInputValue } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { useAction } from './useAction';

export function ScheduleVisitForm({ onScheduled }: { onScheduled(): void }) {
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const people = useAsync(async () => (open ? Promise.all([api.residents(), api.visitors()]) : null), [api, open]);
  const [residentId, setResidentId] = useState('');
  const [visitorId, setVisitorId] = useState('');
  const [start, setStart] = useState(() => localInputValue(new Date(Date.now() + 3600_000)));
  const [duration, setDuration] = useState(30);
  const [privileged, setPrivileged] = useState(false);
  const { busy, error, run, setError } = useAction();
  const [done, setDone] = useState('');

  if (!open) return <button type="button" className="btn" onClick={() => setOpen(true)}>Schedule a visit</button>;
  const [residents, visitors] = people.data ?? [[], []];

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone('');
    if (!residentId || !visitorId) { setError('Choose a resident and a visitor.'); return; }
    const when = new Date(start);
    if (Number.isNaN(when.getTime())) { setError('Choose a date and time.'); return; }
    const ok = await run('schedule', () => api.createVisit({
      residentId: Number(residentId), visitorIds: [Number(visitorId)], start: when.toISOString(), durationMinutes: duration, privileged,
    }), onScheduled);
    if (ok) setDone('The visit is scheduled.');
  }

  return (
    <form className="schedule-form" onSubmit={submit} aria-labelledby="schedule-title">
      <h3 id="schedule-title">Schedule a visit</h3>
      {people.error && <p role="alert" className="error">{people.error}</p>}
      <div className="form-grid">
        <div>
          <label htmlFor="sv-resident">Resident</label>
          <select id="sv-resident" value={residentId} onChange={(e) => setResidentId(e.target.value)} required>
            <option value="">Choose…</option>
            {residents.map((r) => <option key={r.id} value={r.id}>{r.name} ({r.unit})</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="sv-visitor">Visitor</label>
          <select id="sv-visitor" value={visitorId} onChange={(e) => setVisitorId(e.target.value)} required>
            <option value="">Choose…</option>
            {visitors.map((v) => <option key={v.id} value={v.id}>{v.name}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="sv-start">Start</label>
          <input id="sv-start" type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required />
        </div>
        <div>
          <label htmlFor="sv-duration">Minutes</label>
          <input id="sv-duration" type="number" min={5} max={240} value={duration} onChange={(e) => setDuration(Number(e.target.value))} />
        </div>
      </div>
      <label className="check"><input type="checkbox" checked={privileged} onChange={(e) => setPrivileged(e.target.checked)} />
        Privileged (legal) visit: not recorded, not monitored</label>
      {error && <p role="alert" className="error">{error}</p>}
      {done && <p role="status" className="ok">{done}</p>}
      <div className="row">
        <button type="submit" className="btn primary" disabled={busy === 'schedule'}>Schedule</button>
        <button type="button" className="btn" onClick={() => setOpen(false)}>Close</button>
      </div>
    </form>
  );
}
