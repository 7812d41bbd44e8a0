import { useState } from 'react';
import { recordingDownloadUrl } from '../api/client';
import type { Recording } from '../api/types';
import { useSession } from '../auth/session';
import { formatBytes, formatDateTime, formatDuration } from '../lib/time';
import { useAsync } from '../lib/useAsync';

export function RecordingsPage() {
  const { api, config } = useSession();
  const tz = config?.facility.timeZone;
  const [visitFilter, setVisitFilter] = useState('');
  const visitId = /^[1-9][0-9]*$/.test(visitFilter) ? Number(visitFilter) : undefined;
  const list = useAsync(() => api.recordings(visitId), [api, visitId]);
  const [playing, setPlaying] = useState<Recording | null>(null);

  return (
    <div className="page" data-testid="recordings-page">
      <h1>Recordings</h1>
      <div className="card">
        <label htmlFor="rec-visit">Visit number</label>
        <input id="rec-visit" inputMode="numeric" value={visitFilter} placeholder="All visits"
          onChange={(e) => setVisitFilter(e.target.value.trim())} aria-describedby="rec-visit-help" />
        <p id="rec-visit-help" className="muted small">Leave empty to see every recording.</p>
      </div>
      {playing && (
        <section className="card" aria-labelledby="player-title">
          <h2 id="player-title">Visit {playing.visitId}, {formatDateTime(playing.startedAt, tz)}</h2>
          <video key={playing.id} className="player" controls preload="metadata" src={recordingDownloadUrl(playing.id)}
            data-testid="recording-player">
            Your browser cannot play this recording; use the download link.
          </video>
          <div className="row">
            <a className="btn" href={recordingDownloadUrl(playing.id)} download>Download</a>
            <button type="button" className="btn" onClick={() => setPlaying(null)}>Close player</button>
          </div>
        </section>
      )}
      <section className="card" aria-label="Recordings list">
        {list.error && <p role="alert" className="error">{list.error}</p>}
        {list.data && list.data.length === 0 && <p>No recordings yet.</p>}
        {list.data && list.data.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead><tr><th scope="col">Visit</th><th scope="col">Started</th><th scope="col">Length</th><th scope="col">Size</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {list.data.map((r) => (
                  <tr key={r.id} data-testid="recording-row">
                    <td>{r.visitId}</td>
                    <td>{formatDateTime(r.startedAt, tz)}</td>
                    <td>{formatDuration(r.durationMs)}</td>
                    <td>{formatBytes(r.sizeBytes)}</td>
                    <td>{r.status}</td>
                    <td><div className="row">
                      <button type="button" className="btn small" onClick={() => setPlaying(r)}>Play<span className="sr-only"> recording {r.id}</span></button>
                      <a className="btn small" href={recordingDownloadUrl(r.id)} download>Download<span className="sr-only"> recording {r.id}</span></a>
                    </div></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
