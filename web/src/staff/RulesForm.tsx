import { useEffect, useState, type FormEvent } from 'react';
import type { VisitRules } from '../api/types';
import { useSession } from '../auth/session';
import { useAsync } from '../lib/useAsync';
import { useAction } from './useAction';

type NumberRule = Exclude<keyof VisitRules, 'recordVisits'>;

const fields: { key: NumberRule; label: string; min: number; max: number }[] = [
  { key: 'bookableStartHour', label: 'Visits may start from (hour, 0–23)', min: 0, max: 23 },
  { key: 'bookableEndHour', label: 'Visits must end by (hour, 1–24)', min: 1, max: 24 },
  { key: 'minNoticeMinutes', label: 'Minimum notice (minutes)', min: 0, max: 100000 },
  { key: 'maxAdvanceDays', label: 'Book at most this many days ahead', min: 1, max: 365 },
  { key: 'maxDurationMinutes', label: 'Longest visit (minutes)', min: 5, max: 600 },
  { key: 'maxVisitsPerResidentPerWeek', label: 'Visits per resident per week', min: 0, max: 1000 },
  { key: 'joinWindowMinutes', label: 'Join opens this many minutes early', min: 0, max: 240 },
];

export function RulesForm() {
  const { api } = useSession();
  const rules = useAsync(() => api.rules(), [api]);
  const [draft, setDraft] = useState<VisitRules | null>(null);
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => { if (rules.data) setDraft(rules.data); }, [rules.data]);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!draft) return;
    setSaved(false);
    if (await run('save', () => api.saveRules(draft).then(setDraft))) setSaved(true);
  }
  return (
    <section id="rules" className="card" aria-labelledby="rules-title" data-testid="rules">
      <h2 id="rules-title">Visit rules</h2>
      {rules.error && <p role="alert" className="error">{rules.error}</p>}
      {draft && (
        <form onSubmit={save}>
          <div className="form-grid">
            {fields.map((f) => (
              <div key={f.key}>
                <label htmlFor={`rule-${f.key}`}>{f.label}</label>
                <input id={`rule-${f.key}`} type="number" min={f.min} max={f.max} value={draft[f.key]}
                  onChange={(e) => { setSaved(false); setDraft({ ...draft, [f.key]: Number(e.target.value) }); }} required />
              </div>
            ))}
          </div>
          {/* Servers without recording send neither field; then the form does not offer them. */}
          {(draft.recordVisits !== undefined || draft.recordingRetentionDays !== undefined) && (
            <fieldset className="form-grid" data-testid="recording-rules">
              <legend>Recording</legend>
              {draft.recordVisits !== undefined && (
                <label className="check">
                  <input type="checkbox" checked={draft.recordVisits}
                    onChange={(e) => { setSaved(false); setDraft({ ...draft, recordVisits: e.target.checked }); }} />
                  Record every visit that is not privileged
                </label>
              )}
              {draft.recordingRetentionDays !== undefined && (
                <div>
                  <label htmlFor="rule-recordingRetentionDays">Keep recordings for (days)</label>
                  <input id="rule-recordingRetentionDays" type="number" min={0} max={3650} value={draft.recordingRetentionDays}
                    aria-describedby="rule-retention-help"
                    onChange={(e) => { setSaved(false); setDraft({ ...draft, recordingRetentionDays: Number(e.target.value) }); }} required />
                  <p id="rule-retention-help" className="muted small">Older recordings are deleted automatically, and each deletion is logged. 0 keeps them forever.</p>
                </div>
              )}
            </fieldset>
          )}
          {error && <p role="alert" className="error">{error}</p>}
          {saved && <p role="status" className="ok">Rules saved.</p>}
          <button type="submit" className="btn primary" disabled={busy === 'save'}>Save rules</button>
        </form>
      )}
    </section>
  );
}
