import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../api/client';
import type { JoinGrant, User, Visit } from '../api/types';
import { SessionProvider } from '../auth/session';
import { FakeHandle } from '../test/FakeHandle';
import { JoinPage } from './JoinPage';

const connect = vi.fn();
const supportsE2EE = vi.fn(() => true);
vi.mock('../video/createVideoProvider', () => ({
  createVideoProvider: () => ({ name: 'fake', connect, supportsE2EE }),
}));

const now = Date.now();
const visit: Visit = {
  id: 7, residentId: 1, residentName: 'Rosa Resident', visitors: [{ id: 2, name: 'Victor Visitor' }],
  start: new Date(now - 60_000).toISOString(), end: new Date(now + 3600_000).toISOString(), durationMinutes: 60,
  privileged: false, status: 'live', room: 'visit-7', recorded: true,
};
const user: User = { id: 3, email: 'visitor@parlor.local', name: 'Victor Visitor', role: 'visitor', visitorId: 2 };

const privilegedVisit: Visit = { ...visit, privileged: true, recorded: false };
const KEY = 'q2Lm0cZ3n6Jm1oXb5r8yT4uV7wA9dF0gH2jK4lN6pQ8';

class FakeApi extends ApiClient {
  constructor(readonly theVisit: Visit = visit, readonly e2ee?: { key: string }) { super(); }
  joinImpl: (id: number) => Promise<JoinGrant> = async () => ({
    url: 'ws://media', token: 'secret-token', room: 'visit-7', identity: 'visitor-2', name: 'Victor Visitor',
    expiresAt: visit.end, visit: this.theVisit, ...(this.e2ee ? { e2ee: this.e2ee } : {}),
  });
  async me() { return user; }
  async config() { return { facility: { name: 'Test', timeZone: 'UTC' }, videoProvider: 'livekit', livekitUrl: 'ws://media' }; }
  async visit() { return this.theVisit; }
  join(id: number) { return this.joinImpl(id); }
}

function renderJoin(api: FakeApi, path = '/visits/7/join') {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <SessionProvider api={api}>
        <Routes>
          <Route path="/visits/:visitId/join" element={<JoinPage />} />
          <Route path="/home" element={<p>home page</p>} />
        </Routes>
      </SessionProvider>
    </MemoryRouter>,
  );
}

beforeEach(() => { connect.mockReset(); supportsE2EE.mockReset(); supportsE2EE.mockReturnValue(true); });
afterEach(cleanup);

describe('JoinPage', () => {
  it('joins with the token in memory, then shows the end screen when the app ends the visit', async () => {
    const handle = new FakeHandle();
    connect.mockResolvedValue(handle);
    const api = new FakeApi();
    renderJoin(api);
    expect((await screen.findByTestId('prejoin-notice')).textContent).toMatch(/This visit will be recorded\./);
    fireEvent.click(screen.getByTestId('join-now'));
    await screen.findByTestId('video-room');
    expect(connect).toHaveBeenCalledWith('ws://media', 'secret-token', expect.anything());
    expect(window.location.href).not.toContain('secret-token');
    const ended = new TextEncoder().encode('{"type":"visit_ended","reason":"ended by staff"}');
    act(() => handle.emit('data', ended, 'parlor', false));  // a participant's fake: ignored
    expect(screen.queryByTestId('end-screen')).toBeNull();
    expect(handle.disconnect).not.toHaveBeenCalled();
    act(() => handle.emit('data', ended, 'parlor', true));
    expect((await screen.findByTestId('end-screen')).textContent).toMatch(/Reason: ended by staff/);
    expect(handle.disconnect).toHaveBeenCalled();
  });

  it('says so when staff remove the person', async () => {
    const handle = new FakeHandle();
    connect.mockResolvedValue(handle);
    renderJoin(new FakeApi());
    fireEvent.click(await screen.findByTestId('join-now'));
    await screen.findByTestId('video-room');
    act(() => handle.emit('disconnected', 'removed'));
    expect((await screen.findByTestId('end-screen')).textContent).toMatch(/removed you/);
  });

  it('shows a refused join in the page and never connects', async () => {
    const api = new FakeApi();
    api.joinImpl = async () => { throw new ApiError(403, 'forbidden', 'You are not approved to visit this resident.'); };
    renderJoin(api);
    fireEvent.click(await screen.findByTestId('join-now'));
    expect((await screen.findByTestId('join-error')).textContent).toBe('You are not approved to visit this resident.');
    expect(connect).not.toHaveBeenCalled();
  });

  it('leaves the room when the page goes away', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const handle = new FakeHandle();
      connect.mockResolvedValue(handle);
      const { unmount } = renderJoin(new FakeApi());
      fireEvent.click(await screen.findByTestId('join-now'));
      await screen.findByTestId('video-room');
      unmount();
      vi.runAllTimers();
      expect(handle.disconnect).toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('joins a privileged visit encrypted with the key from the join answer, and says so', async () => {
    const handle = new FakeHandle();
    connect.mockResolvedValue(handle);
    renderJoin(new FakeApi(privilegedVisit, { key: KEY }));
    expect((await screen.findByTestId('prejoin-notice')).textContent)
      .toBe('Privileged visit: not recorded, not monitored, end-to-end encrypted.');
    fireEvent.click(screen.getByTestId('join-now'));
    await screen.findByTestId('video-room');
    expect(connect).toHaveBeenCalledWith('ws://media', 'secret-token', expect.objectContaining({ e2eeKey: KEY }));
    expect(screen.getByTestId('privileged-notice')).toBeTruthy();
    expect(screen.queryByTestId('recorded-notice')).toBeNull();
    expect(window.location.href).not.toContain(KEY);
  });

  it('never joins a privileged visit unencrypted: no key in the answer means no connection', async () => {
    renderJoin(new FakeApi(privilegedVisit));
    fireEvent.click(await screen.findByTestId('join-now'));
    expect((await screen.findByTestId('join-error')).textContent).toMatch(/must be end-to-end encrypted/);
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a privileged visit in a browser that cannot encrypt, before asking to join', async () => {
    supportsE2EE.mockReturnValue(false);
    const api = new FakeApi(privilegedVisit, { key: KEY });
    const join = vi.spyOn(api, 'join');
    renderJoin(api);
    expect((await screen.findByTestId('join-error')).textContent).toMatch(/this browser cannot do that/);
    expect((screen.getByTestId('join-now') as HTMLButtonElement).disabled).toBe(true);
    expect(join).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
  });

  it('passes no key for an ordinary visit', async () => {
    connect.mockResolvedValue(new FakeHandle());
    renderJoin(new FakeApi());
    fireEvent.click(await screen.findByTestId('join-now'));
    await screen.findByTestId('video-room');
    expect(connect.mock.calls[0][2].e2eeKey).toBeUndefined();
  });

  it('rejects a bad visit id in the route', async () => {
    renderJoin(new FakeApi(), '/visits/abc/join');
    expect((await screen.findByTestId('join-error')).textContent).toMatch(/not valid/);
  });
});
