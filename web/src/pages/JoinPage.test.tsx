import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../api/client';
import type { JoinGrant, User, Visit } from '../api/types';
import { SessionProvider } from '../auth/session';
import { FakeHandle } from '../test/FakeHandle';
import { JoinPage } from './JoinPage';

const connect = vi.fn();
vi.mock('../video/createVideoProvider', () => ({
  createVideoProvider: () => ({ name: 'fake', connect }),
}));

const now = Date.now();
const visit: Visit = {
  id: 7, residentId: 1, residentName: 'Rosa Resident', visitors: [{ id: 2, name: 'Victor Visitor' }],
  start: new Date(now - 60_000).toISOString(), end: new Date(now + 3600_000).toISOString(), durationMinutes: 60,
  privileged: false, status: 'live', room: 'visit-7', recorded: true,
};
const user: User = { id: 3, email: 'visitor@parlor.local', name: 'Victor Visitor', role: 'visitor', visitorId: 2 };

class FakeApi extends ApiClient {
  joinImpl: (id: number) => Promise<JoinGrant> = async () => ({
    url: 'ws://media', token: 'secret-token', room: 'visit-7', identity: 'visitor-2', name: 'Victor Visitor',
    expiresAt: visit.end, visit,
  });
  async me() { return user; }
  async config() { return { facility: { name: 'Test', timeZone: 'UTC' }, videoProvider: 'livekit', livekitUrl: 'ws://media' }; }
  async visit() { return visit; }
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

beforeEach(() => connect.mockReset());
afterEach(cleanup);

describe('JoinPage', () => {
  it('joins with the token in memory, then shows the end screen when the app ends the visit', async () => {
    const handle = new FakeHandle();
    connect.mockResolvedValue(handle);
    const api = new FakeApi();
    renderJoin(api);
    expect(await screen.findByText('This visit is recorded.')).toBeTruthy();
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

  it('rejects a bad visit id in the route', async () => {
    renderJoin(new FakeApi(), '/visits/abc/join');
    expect((await screen.findByTestId('join-error')).textContent).toMatch(/not valid/);
  });
});
