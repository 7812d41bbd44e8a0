import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import type { User, VisitRules } from '../api/types';
import { SessionProvider } from '../auth/session';
import { RulesForm } from './RulesForm';

const base: VisitRules = {
  bookableStartHour: 8, bookableEndHour: 20, minNoticeMinutes: 60, maxAdvanceDays: 30, maxDurationMinutes: 60,
  maxVisitsPerResidentPerWeek: 5, joinWindowMinutes: 10,
};

class FakeApi extends ApiClient {
  saved: VisitRules[] = [];
  constructor(private current: VisitRules) { super(); }
  async me(): Promise<User> { return { id: 1, email: 's@x', name: 'Staff', role: 'staff' }; }
  async config() { return { facility: { name: 'Test', timeZone: 'UTC' }, videoProvider: 'livekit', livekitUrl: '' }; }
  async rules() { return this.current; }
  async saveRules(r: VisitRules) { this.saved.push(r); this.current = r; return r; }
}

afterEach(cleanup);

describe('RulesForm', () => {
  it('edits and saves the recording policy and the retention period', async () => {
    const api = new FakeApi({ ...base, recordVisits: true, recordingRetentionDays: 90 });
    render(<SessionProvider api={api}><RulesForm /></SessionProvider>);
    const record = await screen.findByLabelText(/Record every visit that is not privileged/) as HTMLInputElement;
    expect(record.checked).toBe(true);
    fireEvent.click(record);
    fireEvent.change(screen.getByLabelText(/Keep recordings for/), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save rules' }));
    await screen.findByText('Rules saved.');
    expect(api.saved).toEqual([{ ...base, recordVisits: false, recordingRetentionDays: 30 }]);
  });

  it('offers no recording fields to a server that does not record', async () => {
    render(<SessionProvider api={new FakeApi(base)}><RulesForm /></SessionProvider>);
    await screen.findByLabelText(/Longest visit/);
    expect(screen.queryByTestId('recording-rules')).toBeNull();
  });
});
