// Typed client for the parlor app API. Keeps the CSRF token (memory only) and sends it on every
// state-changing request; the session itself is the HttpOnly cookie the browser keeps.
import type {
  AppConfig, Approval, ApprovalStatus, JoinGrant, LiveVisit, NewVisit, Recording, Resident,
  User, Visit, VisitRules, Visitor,
} from './types';

/** An error reply from the API, or a network failure (status 0, code "network"). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A sentence fit to show a person, whatever went wrong. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error && e.message) return e.message;
  return 'Something went wrong. Please try again.';
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Fetch = typeof fetch;

export class ApiClient {
  private csrfToken = '';

  constructor(private readonly base = '', private readonly fetchImpl: Fetch = (...a) => fetch(...a)) {}

  setCsrfToken(token: string) { this.csrfToken = token; }

  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && this.csrfToken) headers['X-CSRF-Token'] = this.csrfToken;
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach Parlor. Check your internet connection and try again.');
    }
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try { data = JSON.parse(text); } catch { data = undefined; }
    }
    if (!res.ok) {
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'http_' + res.status,
        err?.message ? sentence(err.message) : `The server answered ${res.status}. Please try again.`);
    }
    return data as T;
  }

  // -- auth --
  async login(email: string, password: string) {
    const r = await this.request<{ user: User; csrfToken: string }>('POST', '/api/auth/login', { email, password });
    this.csrfToken = r.csrfToken;
    return r.user;
  }
  async me() {
    const r = await this.request<{ user: User; csrfToken: string }>('GET', '/api/auth/me');
    this.csrfToken = r.csrfToken;
    return r.user;
  }
  async logout() {
    await this.request<object>('POST', '/api/auth/logout', {});
    this.csrfToken = '';
  }

  config() { return this.request<AppConfig>('GET', '/api/config'); }

  // -- people --
  residents() { return this.request<{ residents: Resident[] }>('GET', '/api/residents').then((r) => r.residents); }
  createResident(b: { name: string; unit: string; email?: string; password?: string }) {
    return this.request<{ resident: Resident }>('POST', '/api/residents', b).then((r) => r.resident);
  }
  visitors() { return this.request<{ visitors: Visitor[] }>('GET', '/api/visitors').then((r) => r.visitors); }
  createVisitor(b: { name: string; email: string; phone?: string; relationship?: string; password?: string }) {
    return this.request<{ visitor: Visitor }>('POST', '/api/visitors', b).then((r) => r.visitor);
  }

  // -- approvals --
  approvals(status?: ApprovalStatus) {
    const q = status ? `?status=${encodeURIComponent(status)}` : '';
    return this.request<{ approvals: Approval[] }>('GET', `/api/approvals${q}`).then((r) => r.approvals);
  }
  requestApproval(residentId: number, visitorId?: number) {
    return this.request<{ approval: Approval }>('POST', '/api/approvals', { residentId, visitorId }).then((r) => r.approval);
  }
  decideApproval(id: number, status: 'approved' | 'denied' | 'blocked', reason?: string) {
    return this.request<{ approval: Approval }>('POST', `/api/approvals/${id}/decision`, { status, reason })
      .then((r) => r.approval);
  }

  // -- visits --
  visits(filter: { date?: string; residentId?: number; visitorId?: number; status?: string } = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
    const qs = q.toString();
    return this.request<{ visits: Visit[] }>('GET', `/api/visits${qs ? '?' + qs : ''}`).then((r) => r.visits);
  }
  visit(id: number) { return this.request<{ visit: Visit }>('GET', `/api/visits/${id}`).then((r) => r.visit); }
  createVisit(b: NewVisit) { return this.request<{ visit: Visit }>('POST', '/api/visits', b).then((r) => r.visit); }
  scheduleVisit(id: number) {
    return this.request<{ visit: Visit }>('POST', `/api/visits/${id}/schedule`, {}).then((r) => r.visit);
  }
  cancelVisit(id: number, reason?: string) {
    return this.request<{ visit: Visit }>('POST', `/api/visits/${id}/cancel`, { reason }).then((r) => r.visit);
  }

  // -- calls and moderation --
  join(visitId: number, monitor = false) {
    return this.request<JoinGrant>('POST', '/api/calls/join', monitor ? { visitId, monitor } : { visitId });
  }
  live() { return this.request<{ visits: LiveVisit[] }>('GET', '/api/live').then((r) => r.visits); }
  mute(visitId: number, identity: string, trackSid: string, muted: boolean) {
    return this.request<object>('POST', `/api/visits/${visitId}/moderation/mute`, { identity, trackSid, muted });
  }
  remove(visitId: number, identity: string) {
    return this.request<object>('POST', `/api/visits/${visitId}/moderation/remove`, { identity });
  }
  endVisit(visitId: number, reason?: string) {
    return this.request<{ visit: Visit }>('POST', `/api/visits/${visitId}/moderation/end`, { reason })
      .then((r) => r.visit);
  }

  // -- recordings and rules --
  recordings(visitId?: number) {
    const q = visitId ? `?visitId=${visitId}` : '';
    return this.request<{ recordings: Recording[] }>('GET', `/api/recordings${q}`).then((r) => r.recordings);
  }
  rules() { return this.request<{ rules: VisitRules }>('GET', '/api/rules').then((r) => r.rules); }
  saveRules(rules: VisitRules) {
    return this.request<{ rules: VisitRules }>('PUT', '/api/rules', rules).then((r) => r.rules);
  }
}

/** Server messages are lower-case fragments ("visit not found"); show them as sentences. */
export function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : first + '.';
}

export function recordingDownloadUrl(id: number) { return `/api/recordings/${id}/download`; }
/** The same file served for playing in a <video> element (Content-Disposition inline, Range). */
export function recordingPlaybackUrl(id: number) { return `/api/recordings/${id}/download?inline=1`; }
