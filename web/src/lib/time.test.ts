import { describe, expect, it } from 'vitest';
import { formatBytes, formatCountdown, isoDate, secondsUntil } from './time';

describe('time helpers', () => {
  it('formats countdowns', () => {
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5)).toBe('0:00');
    expect(formatCountdown(125.7)).toBe('2:05');
    expect(formatCountdown(3725)).toBe('1:02:05');
  });
  it('gives the date in the facility time zone', () => {
    const d = new Date('2030-01-01T03:00:00Z');
    expect(isoDate(d, 'UTC')).toBe('2030-01-01');
    expect(isoDate(d, 'America/New_York')).toBe('2029-12-31');
  });
  it('measures seconds until a time', () => {
    expect(secondsUntil('2030-01-01T00:01:00Z', Date.parse('2030-01-01T00:00:00Z'))).toBe(60);
  });
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
  });
});
