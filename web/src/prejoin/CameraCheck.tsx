import { useEffect, useRef, useState } from 'react';
import { runCameraCheck, summarizeCheck, CameraCheckError, type CheckSummary } from './cameraCheck';

type State = { phase: 'idle' } | { phase: 'running' } | { phase: 'done'; summary: CheckSummary } | { phase: 'failed'; message: string };

/** Sends the preview to the media server's echo and tells the person how their connection looks. */
export function CameraCheck({ livekitUrl, stream }: { livekitUrl?: string; stream: MediaStream | null }) {
  const [state, setState] = useState<State>({ phase: 'idle' });
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  async function run() {
    if (!livekitUrl || !stream) return;
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setState({ phase: 'running' });
    try {
      const m = await runCameraCheck(livekitUrl, stream, { signal: ctl.signal });
      if (!ctl.signal.aborted) setState({ phase: 'done', summary: summarizeCheck(m) });
    } catch (e) {
      if (ctl.signal.aborted) return;
      setState({
        phase: 'failed',
        message: e instanceof CameraCheckError ? e.message : 'The check did not work this time. You can still try to join.',
      });
    }
  }

  return (
    <div className="camera-check" data-testid="camera-check">
      <button type="button" className="btn" onClick={run} disabled={!stream || !livekitUrl || state.phase === 'running'}
        data-testid="camera-check-button">
        {state.phase === 'running' ? 'Checking your connection…' : 'Check my camera and connection'}
      </button>
      <div aria-live="polite" data-testid="camera-check-result">
        {state.phase === 'done' && (
          <div className={`check-result level-${state.summary.level}`}>
            <strong>{state.summary.headline}</strong>
            <ul>{state.summary.details.map((d) => <li key={d}>{d}</li>)}</ul>
          </div>
        )}
        {state.phase === 'failed' && <p className="check-result level-poor">{state.message}</p>}
      </div>
    </div>
  );
}
