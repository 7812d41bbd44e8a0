import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Visit } from '../api/types';
import { FakeHandle } from '../test/FakeHandle';
import { endMessage } from './EndScreen';
import { VisitRoom } from './VisitRoom';

function visit(minutesLeft: number, recorded = true): Visit {
  const now = Date.now();
  return {
    id: 1, residentId: 1, residentName: 'Rosa Resident', visitors: [{ id: 2, name: 'Victor Visitor' }],
    start: new Date(now - 60_000).toISOString(), end: new Date(now + minutesLeft * 60_000).toISOString(),
    durationMinutes: 60, privileged: false, status: 'live', room: 'visit-1', recorded,
  };
}

afterEach(cleanup);

describe('VisitRoom', () => {
  it('shows the recorded notice only for recorded visits', () => {
    const h = new FakeHandle();
    const { rerender } = render(<VisitRoom handle={h} visit={visit(30)} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    expect(screen.getByTestId('recorded-notice').textContent).toMatch(/This visit is being recorded\./);
    rerender(<VisitRoom handle={h} visit={visit(30, false)} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    expect(screen.queryByTestId('recorded-notice')).toBeNull();
    expect(screen.queryByTestId('privileged-notice')).toBeNull();
  });

  it('says a privileged visit is not recorded, not monitored and encrypted; shows the lock once it is', () => {
    const h = new FakeHandle();
    const v = { ...visit(30, false), privileged: true };
    render(<VisitRoom handle={h} visit={v} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    expect(screen.getByTestId('privileged-notice').textContent)
      .toBe('Privileged visit: not recorded, not monitored, end-to-end encrypted.');
    expect(screen.queryByTestId('recorded-notice')).toBeNull();
    expect(screen.queryByTestId('encrypted-indicator')).toBeNull();
    expect(screen.getByTestId('encryption-pending')).toBeTruthy();
    act(() => h.emit('encryption', true));
    expect(screen.getByTestId('encrypted-indicator').textContent).toMatch(/Encrypted/);
    expect(screen.queryByTestId('encryption-pending')).toBeNull();
    act(() => h.emit('decryptionError'));
    expect(screen.getByTestId('decryption-warning').textContent).toMatch(/could not be decrypted/);
    act(() => h.emit('encryption', false));
    expect(screen.queryByTestId('encrypted-indicator')).toBeNull();
  });

  it('shows the lock at once when the handle is already encrypted', () => {
    const h = new FakeHandle();
    h.encrypted = true;
    render(<VisitRoom handle={h} visit={{ ...visit(30, false), privileged: true }} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    expect(screen.getByTestId('encrypted-indicator')).toBeTruthy();
  });

  it('counts down and warns in the last two minutes', () => {
    render(<VisitRoom handle={new FakeHandle()} visit={visit(1.5)} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    expect(screen.getByTestId('countdown').textContent).toMatch(/^1:(29|30) left$/);
    expect(screen.getByTestId('time-warning').textContent).toMatch(/ends in 2 minutes/);
  });

  it('does not warn early, but does when the app sends visit_warning', () => {
    const h = new FakeHandle();
    render(<VisitRoom handle={h} visit={visit(30)} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    expect(screen.queryByTestId('time-warning')).toBeNull();
    const endsAt = new Date(Date.now() + 120_000).toISOString();
    const warning = new TextEncoder().encode(JSON.stringify({ type: 'visit_warning', endsAt, secondsLeft: 120 }));
    act(() => h.emit('data', warning, 'parlor', false));  // sent by a participant: ignored
    expect(screen.queryByTestId('time-warning')).toBeNull();
    expect(screen.getByTestId('countdown').textContent).toMatch(/^(29|30):\d\d left$/);
    act(() => h.emit('data', warning, 'parlor', true));
    expect(screen.getByTestId('time-warning')).toBeTruthy();
    expect(screen.getByTestId('countdown').textContent).toMatch(/^(1:59|2:00) left$/);
  });

  it('shows a banner while reconnecting', () => {
    const h = new FakeHandle();
    render(<VisitRoom handle={h} visit={visit(30)} monitor={false} onLeave={() => {}} onTimeUp={() => {}} />);
    act(() => h.emit('reconnecting'));
    expect(screen.getByTestId('reconnecting-banner').textContent).toMatch(/Reconnecting/);
    act(() => h.emit('reconnected'));
    expect(screen.queryByTestId('reconnecting-banner')).toBeNull();
  });

  it('leaves with the Leave button and unsubscribes on unmount', () => {
    const h = new FakeHandle();
    const onLeave = vi.fn();
    const { unmount } = render(<VisitRoom handle={h} visit={visit(30)} monitor={false} onLeave={onLeave} onTimeUp={() => {}} />);
    act(() => screen.getByTestId('leave-button').click());
    expect(onLeave).toHaveBeenCalledOnce();
    unmount();
    expect(h.listeners.data).toHaveLength(0);
    expect(h.listeners.reconnecting).toHaveLength(0);
  });
});

describe('endMessage', () => {
  it('says clearly when staff removed the person or ended the visit', () => {
    expect(endMessage({ cause: 'removed' }).title).toMatch(/removed/);
    expect(endMessage({ cause: 'removed' }).canRejoin).toBe(false);
    expect(endMessage({ cause: 'visit_ended', reason: 'ended by staff' }).body).toBe('Reason: ended by staff.');
    expect(endMessage({ cause: 'room_ended' }).title).toBe('The visit has ended');
    expect(endMessage({ cause: 'connection_lost' }).canRejoin).toBe(true);
  });
});
