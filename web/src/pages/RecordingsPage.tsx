// Staff's recordings catalogue: every recording grouped by its visit, with the facts an
// investigator checks (status, length, size, SHA-256), a player and a download link.
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { recordingDownloadUrl, recordingPlaybackUrl } from '../api/client';
import type { Recording } from '../api/types';
import { useSession } from '../auth/session';
import { formatBytes, formatDateTime, formatDuration } from '../lib/time';
import { useAsync } from '../lib/useAsync';

/** Recordings grouped by visit, visits newest first, each visit's recordings in start order. */
export function groupByVisit(list: Recording[]): { visitId: number; recordings: Recording[] }[] {
  const byVisit = new Map<number, Recording[]>();
  for (const r of list) {
    const group = byVisit.get(r.visitId);
    if (group) group.push(r); else byVisit.set(r.visitId, [r]);
  }
  const latest = (rs: Recording[]) => rs.reduce((m, r) => (r.startedAt > m ? r.startedAt : m), '');
  return [...byVisit.entries()]
    .map(([visitId, recordings]) => ({ visitId, recordings: [...recordings].sort((a, b) => a.startedAt.localeCompare(b.startedAt)) }))
    .sort((a, b) => latest(b.recordings).localeCompare(latest(a.recordings)) || b.visitId - a.visitId);
}

/** The first 12 hex digits: enough to compare by eye; the full value is in the title and on copy. */
export function shortSha(sha: string): string {
  return sha ? sha.slice(0, 12) : '—';
}

// The app stores LiveKit's EgressStatus names (EGRESS_ACTIVE, ...) as the webhooks give them.
const STATUS_LABELS: Record<string, string> = {
  starting: 'Starting', active: 'Recording', ending: 'Finishing', complete: 'Ready',
  failed: 'Failed', aborted: 'Nothing recorded', limit_reached: 'Stopped at the size limit',
};

function statusKey(status: string): string {
  return status.toLowerCase().replace(/^egress_/, '');
}

export function recordingStatusLabel(r: Pick<Recording, 'status' | 'deleted'>): string {
  if (r.deleted) return 'Deleted (retention period over)';
  return STATUS_LABELS[statusKey(r.status)] ?? r.status;
}

/** Only a finished file that is still kept can be played or downloaded. */
export function isPlayable(r: Recording): boolean {
  return statusKey(r.status) === 'complete' && !r.deleted;
}

export function RecordingsPage() {
  const { api, config } = useSession();
  const tz = config?.facility.timeZone;
  const [params, setParams] = useSearchParams();
  const visitFilter = params.get('visitId') ?? '';
  const visitId = /^[1-9][0-9]{0,15}$/.test(visitFilter) ? Number(visitFilter) : undefined;
  const list = useAsync(() => api.recordings(visitId), [api, visitId]);
  const [playing, setPlaying] = useState<Recording | null>(null);
  const [playError, setPlayError] = useState('');
  const groups = groupByVisit(list.data ?? []);

  return (
    <div className="page" data-testid="recordings-page">
      <h1>Recordings</h1>
      <div className="card">
        <label htmlFor="rec-visit">Visit number</label>
        <input id="rec-visit" inputMode="numeric" value={visitFilter} placeholder="All visits"
          onChange={(e) => {
            const v = e.target.value.trim();
            setParams(v ? { visitId: v } : {}, { replace: true });
          }} aria-describedby="rec-visit-help" />
        <p id="rec-visit-help" className="muted small">Leave empty to see every recording.</p>
        {visitFilter && visitId === undefined && <p role="alert" className="error">A visit number is a whole number, like 42.</p>}
      </div>
      {playing && (
        <section className="card" aria-labelledby="player-title">
          <h2 id="player-title">Visit {playing.visitId}, {formatDateTime(playing.startedAt, tz)}</h2>
          <video key={playing.id} className="player" controls preload="metadata" src={recordingPlaybackUrl(playing.id)}
            data-testid="recording-player" onError={() => setPlayError('This recording could not be played here. Download it instead.')}>
            Your browser cannot play this recording; use the download link.
          </video>
          {playError && <p role="alert" className="error">{playError}</p>}
          <p className="muted small">SHA-256 <span className="sha" data-testid="player-sha256">{playing.sha256 || 'not computed yet'}</span></p>
          <div className="row">
            <a className="btn" href={recordingDownloadUrl(playing.id)} download>Download</a>
            <button type="button" className="btn" onClick={() => setPlaying(null)}>Close player</button>
          </div>
        </section>
      )}
      <section className="card" aria-label="Recordings list">
        {list.error && <p role="alert" className="error">{list.error}</p>}
        {list.data && list.data.length === 0 && <p>{visitId ? `No recordings of visit ${visitId}.` : 'No recordings yet.'}</p>}
        {groups.map((g) => (
          <div key={g.visitId} className="recording-group" data-testid="recording-visit" data-visit-id={g.visitId}>
            <h2>Visit {g.visitId}</h2>
            <div className="table-wrap">
              <table>
                <thead><tr><th scope="col">Started</th><th scope="col">Length</th><th scope="col">Size</th><th scope="col">Status</th><th scope="col">SHA-256</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {g.recordings.map((r) => (
                    <tr key={r.id} data-testid="recording-row" data-recording-id={r.id} data-status={r.status}>
                      <td>{formatDateTime(r.startedAt, tz)}</td>
                      <td>{formatDuration(r.durationMs)}</td>
                      <td>{formatBytes(r.sizeBytes)}</td>
                      <td>{recordingStatusLabel(r)}</td>
                      <td><span className="sha" title={r.sha256}>{shortSha(r.sha256)}</span></td>
                      <td>{isPlayable(r) && (
                        <div className="row">
                          <button type="button" className="btn small" onClick={() => { setPlayError(''); setPlaying(r); }}
                            data-testid="play-recording">
                            Play<span className="sr-only"> recording {r.id}</span>
                          </button>
                          <a className="btn small" href={recordingDownloadUrl(r.id)} download>Download<span className="sr-only"> recording {r.id}</span></a>
                        </div>
                      )}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        ))}
      </section>
    </div>
  );
}
