import { useState, type FormEvent } from 'react';
import { useSession } from '../auth/session';
import { useAsync } from '../lib/useAsync';
import { useAction } from './useAction';

export function Residents() {
  const { api } = useSession();
  const list = useAsync(() => api.residents(), [api]);
  const { busy, error, run } = useAction();
  const [name, setName] = useState('');
  const [unit, setUnit] = useState('');
  const [email, setEmail] = useState('');

  async function add(e: FormEvent) {
    e.preventDefault();
    const ok = await run('add', () => api.createResident({ name: name.trim(), unit: unit.trim(), email: email.trim() || undefined }), list.reload);
    if (ok) { setName(''); setUnit(''); setEmail(''); }
  }
  return (
    <section id="residents" className="card" aria-labelledby="residents-title" data-testid="residents">
      <h2 id="residents-title">Residents</h2>
      {list.error && <p role="alert" className="error">{list.error}</p>}
      <ul className="plain-list people">
        {(list.data ?? []).map((r) => (
          <li key={r.id}><strong>{r.name}</strong> <span className="muted">{r.unit}{r.status && r.status !== 'active' ? ` · ${r.status}` : ''}</span></li>
        ))}
      </ul>
      <details>
        <summary>Add a resident</summary>
        <form onSubmit={add}>
          <label htmlFor="nr-name">Name</label>
          <input id="nr-name" value={name} onChange={(e) => setName(e.target.value)} required />
          <label htmlFor="nr-unit">Unit</label>
          <input id="nr-unit" value={unit} onChange={(e) => setUnit(e.target.value)} required />
          <label htmlFor="nr-email">Email (optional, for a kiosk login)</label>
          <input id="nr-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit" className="btn primary" disabled={busy === 'add'}>Add resident</button>
        </form>
      </details>
    </section>
  );
}

export function Visitors() {
  const { api } = useSession();
  const list = useAsync(() => api.visitors(), [api]);
  const { busy, error, run } = useAction();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [relationship, setRelationship] = useState('');

  async function add(e: FormEvent) {
    e.preventDefault();
    const ok = await run('add', () => api.createVisitor({ name: name.trim(), email: email.trim(), relationship: relationship.trim() || undefined }), list.reload);
    if (ok) { setName(''); setEmail(''); setRelationship(''); }
  }
  return (
    <section id="visitors" className="card" aria-labelledby="visitors-title" data-testid="visitors">
      <h2 id="visitors-title">Visitors</h2>
      {list.error && <p role="alert" className="error">{list.error}</p>}
      <ul className="plain-list people">
        {(list.data ?? []).map((v) => (
          <li key={v.id}><strong>{v.name}</strong> <span className="muted">{v.email}{v.relationship ? ` · ${v.relationship}` : ''}</span></li>
        ))}
      </ul>
      <details>
        <summary>Add a visitor</summary>
        <form onSubmit={add}>
          <label htmlFor="nv-name">Name</label>
          <input id="nv-name" value={name} onChange={(e) => setName(e.target.value)} required />
          <label htmlFor="nv-email">Email</label>
          <input id="nv-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          <label htmlFor="nv-rel">Relationship (optional)</label>
          <input id="nv-rel" value={relationship} onChange={(e) => setRelationship(e.target.value)} />
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit" className="btn primary" disabled={busy === 'add'}>Add visitor</button>
        </form>
      </details>
    </section>
  );
}
