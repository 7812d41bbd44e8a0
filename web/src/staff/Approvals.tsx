import { useState } from 'react';
import type { Approval, ApprovalStatus } from '../api/types';
import { useSession } from '../auth/session';
import { formatDateTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { useAction } from './useAction';

const filters: { value: ApprovalStatus; label: string }[] = [
  { value: 'pending', label: 'Waiting' }, { value: 'approved', label: 'Approved' },
  { value: 'denied', label: 'Denied' }, { value: 'blocked', label: 'Blocked' },
];

export function Approvals() {
  const { api } = useSession();
  const [status, setStatus] = useState<ApprovalStatus>('pending');
  const list = useAsync(() => api.approvals(status), [api, status]);
  return (
    <section id="approvals" className="card" aria-labelledby="approvals-title" data-testid="approvals">
      <h2 id="approvals-title">Visitor approvals</h2>
      <div className="row" role="group" aria-label="Show approvals">
        {filters.map((f) => (
          <button key={f.value} type="button" className={`btn small${status === f.value ? ' primary' : ''}`}
            aria-pressed={status === f.value} onClick={() => setStatus(f.value)}>{f.label}</button>
        ))}
      </div>
      {list.error && <p role="alert" className="error">{list.error}</p>}
      {list.data && list.data.length === 0 && <p>Nothing here.</p>}
      <ul className="plain-list">
        {(list.data ?? []).map((a) => <ApprovalRow key={a.id} a={a} onDecided={list.reload} />)}
      </ul>
    </section>
  );
}

function ApprovalRow({ a, onDecided }: { a: Approval; onDecided(): void }) {
  const { api } = useSession();
  const { busy, error, run } = useAction();
  const [reason, setReason] = useState('');
  const decide = (s: 'approved' | 'denied' | 'blocked') =>
    void run(s, () => api.decideApproval(a.id, s, reason.trim() || undefined), onDecided);
  return (
    <li className="approval" data-testid="approval-row">
      <div><strong>{a.visitorName}</strong> wants to visit <strong>{a.residentName}</strong>
        <div className="muted small">Asked {formatDateTime(a.createdAt)}{a.reason ? ` · ${a.reason}` : ''}</div></div>
      <div className="row">
        <label className="sr-only" htmlFor={`reason-${a.id}`}>Reason for {a.visitorName}</label>
        <input id={`reason-${a.id}`} className="reason" placeholder="Reason (optional)" value={reason}
          onChange={(e) => setReason(e.target.value)} maxLength={200} />
        {a.status !== 'approved' && <button type="button" className="btn small primary" disabled={!!busy} onClick={() => decide('approved')}>Approve</button>}
        {a.status !== 'denied' && <button type="button" className="btn small" disabled={!!busy} onClick={() => decide('denied')}>Deny</button>}
        {a.status !== 'blocked' && <button type="button" className="btn small danger" disabled={!!busy} onClick={() => decide('blocked')}>Block</button>}
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </li>
  );
}
