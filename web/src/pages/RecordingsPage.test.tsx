import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import type { Recording, User } from '../api/types';
import { SessionProvider } from '../auth/session';
import { groupByVisit, isPlayable, RecordingsPage, recordingStatusLabel, shortSha } from './RecordingsPage';

const SHA = 'ab12cd34ef56' + '0'.repeat(52);

function rec(id: number, visitId: number, startedAt: string, status = 'EGRESS_COMPLETE'): Recording {
  return {
    id, visitId, egressId: `EG_${id}`, status, sizeBytes: 3 * 1024 * 1024, durationMs: 754_000, sha256: SHA,
    startedAt, endedAt: startedAt,
  };
}

const list = [
  rec(1, 7, '2026-12-01T10:00:00Z'),
  rec(2, 9, '2026-12-02T10:00:00Z', 'EGRESS_ACTIVE'),
  rec(3, 7, '2026-12-01T09:00:00Z'),
];

class FakeApi extends ApiClient {
  asked: (number | undefined)[] = [];
  async me(): Promise<User> { return { id: 1, email: 's@x', name: 'Staff', role: 'staff' }; }
  async config() { return { facility: { name: 'Test', timeZone: 'UTC' }, videoProvider: 'livekit', livekitUrl: '' }; }
  async recordings(visitId?: number) {
    this.asked.push(visitId);
    return list.filter((r) => visitId === undefined || r.visitId === visitId);
  }
}

function renderPage(api: FakeApi, path = '/recordings') {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <SessionProvider api={api}>
        <Routes><Route path="/recordings" element={<RecordingsPage />} /></Routes>
      </SessionProvider>
    </MemoryRouter>,
  );
}

afterEach(cleanup);

describe('recordings helpers', () => {
  it('groups by visit, newest visit first, recordings in the order they started', () => {
    const g = groupByVisit(list);
    expect(g.map((x) => x.visitId)).toEqual([9, 7]);
    expect(g[1].recordings.map((r) => r.id)).toEqual([3, 1]);
  });
  it('shortens the checksum and plays only finished files', () => {
    expect(shortSha(SHA)).toBe('ab12cd34ef56');
    expect(shortSha('')).toBe('—');
    expect(isPlayable(rec(1, 1, '', 'EGRESS_COMPLETE'))).toBe(true);
    expect(isPlayable(rec(1, 1, '', 'EGRESS_ACTIVE'))).toBe(false);
    expect(isPlayable(rec(1, 1, '', 'EGRESS_FAILED'))).toBe(false);
    expect(isPlayable({ ...rec(1, 1, ''), deleted: true })).toBe(false);
    expect(recordingStatusLabel({ status: 'EGRESS_ABORTED' })).toBe('Nothing recorded');
    expect(recordingStatusLabel({ status: 'EGRESS_COMPLETE', deleted: true })).toMatch(/Deleted/);
  });
});

describe('RecordingsPage', () => {
  it('lists recordings per visit with length, size, status and checksum, and plays the inline URL', async () => {
    renderPage(new FakeApi());
    const groups = await screen.findAllByTestId('recording-visit');
    expect(groups.map((g) => g.dataset.visitId)).toEqual(['9', '7']);
    const rows = within(groups[1]).getAllByTestId('recording-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('12:34');
    expect(rows[0].textContent).toContain('3.0 MB');
    expect(rows[0].textContent).toContain('Ready');
    expect(rows[0].textContent).toContain('ab12cd34ef56');
    expect(within(groups[0]).getByTestId('recording-row').textContent).toContain('Recording');
    expect(within(groups[0]).queryByTestId('play-recording')).toBeNull(); // still being recorded
    const download = within(rows[0]).getByRole('link', { name: /Download/ });
    expect(download.getAttribute('href')).toBe('/api/recordings/3/download');
    fireEvent.click(within(rows[0]).getByTestId('play-recording'));
    const player = screen.getByTestId('recording-player') as HTMLVideoElement;
    expect(player.getAttribute('src')).toBe('/api/recordings/3/download?inline=1');
    expect(player.controls).toBe(true);
    expect(screen.getByTestId('player-sha256').textContent).toBe(SHA);
  });

  it('filters by the visit in the address, as the staff console links to it', async () => {
    const api = new FakeApi();
    renderPage(api, '/recordings?visitId=9');
    const groups = await screen.findAllByTestId('recording-visit');
    expect(groups.map((g) => g.dataset.visitId)).toEqual(['9']);
    expect(api.asked).toContain(9);
    expect((screen.getByLabelText('Visit number') as HTMLInputElement).value).toBe('9');
  });

  it('explains a visit number that is not one, and asks for everything meanwhile', async () => {
    const api = new FakeApi();
    renderPage(api, '/recordings?visitId=abc');
    expect((await screen.findByRole('alert')).textContent).toMatch(/whole number/);
    expect(api.asked.every((v) => v === undefined)).toBe(true);
  });
});
