import type { VideoEndCause } from '../video/BaseVideoProvider';

export interface EndState {
  cause: VideoEndCause | 'visit_ended' | 'time_up';
  reason?: string;
}

export function endMessage(e: EndState): { title: string; body: string; canRejoin: boolean } {
  switch (e.cause) {
    case 'left': return { title: 'You left the visit', body: 'You can join again while the visit is still on.', canRejoin: true };
    case 'removed': return { title: 'You were removed from the visit', body: 'A staff member removed you from this visit.', canRejoin: false };
    case 'visit_ended':
    case 'room_ended':
      return {
        title: 'The visit has ended',
        body: e.reason ? `Reason: ${e.reason}.` : 'Thank you for visiting.',
        canRejoin: false,
      };
    case 'time_up': return { title: 'The visit time is over', body: 'Thank you for visiting.', canRejoin: false };
    case 'duplicate': return { title: 'You joined from somewhere else', body: 'This visit was opened in another window or device, so this one was closed.', canRejoin: true };
    case 'server': return { title: 'The video service closed the visit', body: 'Something went wrong on our side. Please try joining again.', canRejoin: true };
    default: return { title: 'The connection was lost', body: 'Check your internet connection, then join again.', canRejoin: true };
  }
}

export function EndScreen({ end, onHome, onRejoin }: { end: EndState; onHome(): void; onRejoin?: () => void }) {
  const m = endMessage(end);
  return (
    <div className="page end" data-testid="end-screen" data-cause={end.cause}>
      <section className="card end-card" aria-labelledby="end-title">
        <h1 id="end-title" tabIndex={-1} ref={(el) => el?.focus()}>{m.title}</h1>
        <p>{m.body}</p>
        <div className="row">
          <button type="button" className="btn primary huge" onClick={onHome}>Back to home</button>
          {m.canRejoin && onRejoin && <button type="button" className="btn" onClick={onRejoin}>Join again</button>}
        </div>
      </section>
    </div>
  );
}
