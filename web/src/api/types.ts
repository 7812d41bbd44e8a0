// Shapes of the parlor app API (docs/api.md). Times are RFC 3339 UTC strings; ids are integers.

export type Role = 'admin' | 'staff' | 'resident' | 'visitor';

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  residentId?: number;
  visitorId?: number;
}

export interface AppConfig {
  facility: { name: string; timeZone: string };
  videoProvider: string;
  livekitUrl: string;
}

export interface Resident {
  id: number;
  name: string;
  unit: string;
  status: string;
}

export interface Visitor {
  id: number;
  name: string;
  email: string;
  phone: string;
  relationship: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'blocked';

export interface Approval {
  id: number;
  visitorId: number;
  visitorName: string;
  residentId: number;
  residentName: string;
  status: ApprovalStatus;
  reason: string;
  decidedBy: string | number | null;
  decidedAt: string | null;
  createdAt: string;
}

export type VisitStatus = 'requested' | 'scheduled' | 'live' | 'completed' | 'cancelled' | 'missed' | 'terminated';

export interface Visit {
  id: number;
  residentId: number;
  residentName: string;
  visitors: { id: number; name: string }[];
  start: string;
  end: string;
  durationMinutes: number;
  privileged: boolean;
  status: VisitStatus;
  room: string;
  recorded: boolean;
  endedReason?: string;
}

export interface LiveTrack {
  sid: string;
  kind: string;
  muted: boolean;
}

export interface LiveParticipant {
  identity: string;
  name: string;
  tracks: LiveTrack[];
}

export interface LiveVisit extends Visit {
  participants: LiveParticipant[];
}

export interface JoinGrant {
  url: string;
  token: string;
  room: string;
  identity: string;
  name: string;
  expiresAt: string;
  visit: Visit;
  /**
   * Privileged visits only: the visit's media key (base64url, 32 bytes). Given to the visit's
   * participants at join and never stored; the page keeps it in memory for the call only.
   */
  e2ee?: { key: string };
}

export interface Recording {
  id: number;
  visitId: number;
  egressId: string;
  status: string;
  sizeBytes: number;
  durationMs: number;
  sha256: string;
  startedAt: string;
  endedAt: string;
  /** Removed when its retention period ran out (the row and its checksum stay). */
  deleted?: boolean;
  deletedAt?: string;
}

export interface VisitRules {
  bookableStartHour: number;
  bookableEndHour: number;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  maxDurationMinutes: number;
  maxVisitsPerResidentPerWeek: number;
  joinWindowMinutes: number;
  /** Record every visit that is not privileged (absent from servers without recording). */
  recordVisits?: boolean;
  /** Days a recording is kept before it is deleted (and the deletion audited). */
  recordingRetentionDays?: number;
}

export interface NewVisit {
  residentId: number;
  visitorIds?: number[];
  start: string;
  durationMinutes: number;
  privileged?: boolean;
}
