import { describe, expect, it } from 'vitest';
import { parseVisitId } from './routes';

describe('parseVisitId', () => {
  it('accepts positive integers only', () => {
    expect(parseVisitId('1')).toBe(1);
    expect(parseVisitId('42')).toBe(42);
    for (const bad of [undefined, '', '0', '-1', '01', '1.5', '1e3', 'abc', '12abc', '99999999999999999']) {
      expect(parseVisitId(bad)).toBeNull();
    }
  });
});
