// Data messages the parlor app sends into a visit's room (topic "parlor", JSON payload).

export const PARLOR_TOPIC = 'parlor';

export type ParlorMessage =
  | { type: 'visit_warning'; endsAt?: string; secondsLeft?: number }
  | { type: 'visit_ended'; reason?: string };

/**
 * Parses a data message; null for other topics, bad JSON, unknown types, and anything not sent
 * by the server: a participant could otherwise send a fake warning or end notice to the others.
 */
export function parseParlorMessage(
  payload: Uint8Array | string, topic: string | undefined, fromServer: boolean,
): ParlorMessage | null {
  if (!fromServer || topic !== PARLOR_TOPIC) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(typeof payload === 'string' ? payload : new TextDecoder().decode(payload));
  } catch {
    return null;
  }
  if (!obj || typeof obj !== 'object') return null;
  const m = obj as Record<string, unknown>;
  if (m.type === 'visit_warning') {
    return {
      type: 'visit_warning',
      endsAt: typeof m.endsAt === 'string' ? m.endsAt : undefined,
      secondsLeft: typeof m.secondsLeft === 'number' && Number.isFinite(m.secondsLeft) ? m.secondsLeft : undefined,
    };
  }
  if (m.type === 'visit_ended') {
    return { type: 'visit_ended', reason: typeof m.reason === 'string' ? m.reason : undefined };
  }
  return null;
}
