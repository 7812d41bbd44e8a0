import type { Visit } from '../api/types';

const joinable = new Set(['scheduled', 'live']);

/** A visit a participant may try to join (the server checks the join window). */
export function canJoin(v: Visit, now: number = Date.now()): boolean {
  return joinable.has(v.status) && new Date(v.end).getTime() > now;
}

/** Visits not over yet, soonest first. */
export function upcoming(visits: Visit[], now: number = Date.now()): Visit[] {
  return visits
    .filter((v) => ['requested', 'scheduled', 'live'].includes(v.status) && new Date(v.end).getTime() > now)
    .sort((a, b) => a.start.localeCompare(b.start));
}

export function statusLabel(s: Visit['status']): string {
  switch (s) {
    case 'requested': return 'Waiting for approval';
    case 'scheduled': return 'Scheduled';
    case 'live': return 'Happening now';
    case 'completed': return 'Completed';
    case 'cancelled': return 'Cancelled';
    case 'missed': return 'Missed';
    case 'terminated': return 'Ended by staff';
    default: return s;
  }
}

export function visitorNames(v: Visit): string {
  return v.visitors.map((x) => x.name).join(', ');
}

export const PRIVILEGED_NOTICE = 'Privileged visit: not recorded, not monitored, end-to-end encrypted.';

/**
 * What a participant is told about recording and privacy, in plain words: before joining (the
 * pre-join page) or in the room. Undefined for a visit that is neither recorded nor privileged.
 */
export function privacyNotice(v: Pick<Visit, 'privileged' | 'recorded'>, when: 'before' | 'during'): string | undefined {
  if (v.privileged) return PRIVILEGED_NOTICE;
  if (v.recorded) {
    return when === 'before' ? 'This visit will be recorded. Staff can watch the recording later.'
      : 'This visit is being recorded.';
  }
  return undefined;
}
