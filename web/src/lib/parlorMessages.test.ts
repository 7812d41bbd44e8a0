import { describe, expect, it } from 'vitest';
import { parseParlorMessage } from './parlorMessages';

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

describe('parseParlorMessage', () => {
  it('reads a visit warning', () => {
    expect(parseParlorMessage(enc({ type: 'visit_warning', endsAt: '2030-01-01T10:00:00Z', secondsLeft: 120 }), 'parlor', true))
      .toEqual({ type: 'visit_warning', endsAt: '2030-01-01T10:00:00Z', secondsLeft: 120 });
  });
  it('reads visit_ended with its reason', () => {
    expect(parseParlorMessage(enc({ type: 'visit_ended', reason: 'ended by staff' }), 'parlor', true))
      .toEqual({ type: 'visit_ended', reason: 'ended by staff' });
  });
  it('ignores other topics, bad JSON and unknown types', () => {
    expect(parseParlorMessage(enc({ type: 'visit_ended' }), 'chat', true)).toBeNull();
    expect(parseParlorMessage(enc({ type: 'visit_ended' }), undefined, true)).toBeNull();
    expect(parseParlorMessage('{not json', 'parlor', true)).toBeNull();
    expect(parseParlorMessage(enc({ type: 'other' }), 'parlor', true)).toBeNull();
    expect(parseParlorMessage(enc(42), 'parlor', true)).toBeNull();
  });
  it('ignores a message another participant sent, however well-formed', () => {
    expect(parseParlorMessage(enc({ type: 'visit_ended', reason: 'fake' }), 'parlor', false)).toBeNull();
    expect(parseParlorMessage(enc({ type: 'visit_warning', secondsLeft: 1 }), 'parlor', false)).toBeNull();
  });
  it('drops fields of the wrong type', () => {
    expect(parseParlorMessage(enc({ type: 'visit_warning', secondsLeft: 'soon' }), 'parlor', true))
      .toEqual({ type: 'visit_warning', endsAt: undefined, secondsLeft: undefined });
  });
});
