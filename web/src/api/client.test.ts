import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from './client';

function reply(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('ApiClient', () => {
  it('keeps the CSRF token from login and sends it on state changes only', async () => {
    const fetchImpl = vi.fn()
      .mockResolvedValueOnce(reply(200, { user: { id: 1, role: 'visitor' }, csrfToken: 'tok' }))
      .mockResolvedValueOnce(reply(200, { visits: [] }))
      .mockResolvedValueOnce(reply(200, { visit: { id: 3 } }));
    const api = new ApiClient('', fetchImpl as unknown as typeof fetch);
    await api.login('a@b', 'pw');
    expect(fetchImpl.mock.calls[0][1].headers['X-CSRF-Token']).toBeUndefined();
    await api.visits();
    expect(fetchImpl.mock.calls[1][1].headers['X-CSRF-Token']).toBeUndefined();
    await api.createVisit({ residentId: 1, start: '2030-01-01T00:00:00Z', durationMinutes: 30 });
    expect(fetchImpl.mock.calls[2][1].headers['X-CSRF-Token']).toBe('tok');
    expect(fetchImpl.mock.calls[2][1].method).toBe('POST');
  });

  it('turns error replies into ApiError with the server message as a sentence', async () => {
    const fetchImpl = vi.fn().mockResolvedValue(reply(403, { error: { code: 'forbidden', message: 'you are not approved to visit this resident' } }));
    const api = new ApiClient('', fetchImpl as unknown as typeof fetch);
    const err = await api.join(1).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(403);
    expect(err.code).toBe('forbidden');
    expect(err.message).toBe('You are not approved to visit this resident.');
  });

  it('reports a network failure kindly', async () => {
    const api = new ApiClient('', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')) as unknown as typeof fetch);
    await expect(api.me()).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('sends monitor only for staff monitoring', async () => {
    const fetchImpl = vi.fn().mockImplementation(async () => reply(200, {}));
    const api = new ApiClient('', fetchImpl as unknown as typeof fetch);
    await api.join(7);
    await api.join(7, true);
    expect(JSON.parse(fetchImpl.mock.calls[0][1].body)).toEqual({ visitId: 7 });
    expect(JSON.parse(fetchImpl.mock.calls[1][1].body)).toEqual({ visitId: 7, monitor: true });
  });
});
