// A visit from the person's side: pre-join → connecting → in the room → end screen.
// The join token lives only in this component's memory and is handed straight to the provider.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { errorMessage } from '../api/client';
import type { Visit } from '../api/types';
import { homePath, useSession } from '../auth/session';
import { parseParlorMessage } from '../lib/parlorMessages';
import { parseVisitId } from '../lib/routes';
import { formatTime } from '../lib/time';
import { privacyNotice, visitorNames } from '../lib/visits';
import { PreJoin, type JoinChoices } from '../prejoin/PreJoin';
import { EndScreen, type EndState } from '../room/EndScreen';
import { VisitRoom } from '../room/VisitRoom';
import { E2EEUnsupportedError, type VideoRoomHandle } from '../video/BaseVideoProvider';
import { createVideoProvider } from '../video/createVideoProvider';

const NO_KEY_MESSAGE = 'This privileged visit must be end-to-end encrypted, but Parlor did not send the ' +
  'encryption key, so you were not connected. Please try again; if it keeps happening, contact the facility.';

type Phase =
  | { name: 'prejoin' }
  | { name: 'in-room'; handle: VideoRoomHandle; visit: Visit }
  | { name: 'ended'; end: EndState };

export function JoinPage({ monitor = false }: { monitor?: boolean }) {
  const { visitId: raw } = useParams();
  const visitId = parseVisitId(raw);
  const { api, config, user } = useSession();
  const navigate = useNavigate();
  const [visit, setVisit] = useState<Visit | null>(null);
  const [phase, setPhase] = useState<Phase>({ name: 'prejoin' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const ended = useRef(false);
  const home = user ? homePath(user) : '/';
  const canEncrypt = useMemo(() => {
    try { return createVideoProvider(config).supportsE2EE(); } catch { return false; }
  }, [config]);

  useEffect(() => {
    if (visitId === null) return;
    api.visit(visitId).then(setVisit).catch((e) => setError(errorMessage(e)));
  }, [api, visitId]);

  const finish = useCallback((end: EndState) => {
    if (ended.current) return;
    ended.current = true;
    setPhase({ name: 'ended', end });
  }, []);

  const join = useCallback(async (choices?: JoinChoices) => {
    if (visitId === null) return;
    setBusy(true);
    setError('');
    let handle: VideoRoomHandle | null = null;
    try {
      const provider = createVideoProvider(config);
      if (visit?.privileged && !provider.supportsE2EE()) throw new E2EEUnsupportedError();
      const grant = await api.join(visitId, monitor);
      // A privileged visit is joined encrypted or not at all.
      const e2eeKey = grant.e2ee?.key;
      if (grant.visit.privileged && !e2eeKey) throw new Error(NO_KEY_MESSAGE);
      handle = await provider.connect(grant.url, grant.token, monitor ? { monitor: true, e2eeKey } : {
        audio: choices?.audioEnabled === false ? false : { deviceId: choices?.audioDeviceId },
        video: choices?.videoEnabled === false ? false : { deviceId: choices?.videoDeviceId },
        e2eeKey,
      });
      if (!mounted.current) { await handle.disconnect(); return; }
      ended.current = false;
      handle.on('disconnected', (cause) => finish({ cause }));
      setVisit(grant.visit);
      setPhase({ name: 'in-room', handle, visit: grant.visit });
    } catch (e) {
      await handle?.disconnect().catch(() => {});
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }, [api, config, visit, visitId, monitor, finish]);

  // Leaving the page always leaves the room. The disconnect waits one tick so that React's
  // StrictMode unmount-and-remount check (development only) does not end a live call.
  const handle = phase.name === 'in-room' ? phase.handle : null;
  const pendingLeave = useRef<{ handle: VideoRoomHandle; timer: ReturnType<typeof setTimeout> } | null>(null);
  useEffect(() => {
    if (!handle) return;
    if (pendingLeave.current?.handle === handle) clearTimeout(pendingLeave.current.timer);
    pendingLeave.current = null;
    const offData = handle.on('data', (payload, topic, fromServer) => {
      const m = parseParlorMessage(payload, topic, fromServer);
      if (m?.type === 'visit_ended') {
        finish({ cause: 'visit_ended', reason: m.reason });
        void handle.disconnect();
      }
    });
    return () => {
      offData();
      pendingLeave.current = { handle, timer: setTimeout(() => void handle.disconnect(), 0) };
    };
  }, [handle, finish]);

  // A connect that finishes after the person has left the page must not leave a room open.
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => { mounted.current = false; };
  }, []);

  // Staff monitoring has no pre-join screen: nothing is published.
  const autoJoined = useRef(false);
  useEffect(() => {
    if (monitor && !autoJoined.current && config) { autoJoined.current = true; void join(); }
  }, [monitor, config, join]);

  if (visitId === null) {
    return (
      <div className="page">
        <p role="alert" className="error" data-testid="join-error">This visit link is not valid.</p>
        <button type="button" className="btn" onClick={() => navigate(home)}>Back to home</button>
      </div>
    );
  }

  if (phase.name === 'ended') {
    return <EndScreen end={phase.end} onHome={() => navigate(home)}
      onRejoin={monitor ? undefined : () => { ended.current = false; setPhase({ name: 'prejoin' }); }} />;
  }

  if (phase.name === 'in-room') {
    return (
      <VisitRoom handle={phase.handle} visit={phase.visit} monitor={monitor} timeZone={config?.facility.timeZone}
        onLeave={() => {
          if (monitor) { navigate(home); return; } // unmounting leaves the room
          finish({ cause: 'left' });
          void phase.handle.disconnect();
        }}
        onTimeUp={() => finish({ cause: 'time_up' })} />
    );
  }

  const cannotEncrypt = !!visit?.privileged && !canEncrypt;
  const withWhom = visit ? (user?.role === 'resident' ? visitorNames(visit) : visit.residentName) : '';
  if (monitor) {
    return (
      <div className="page">
        <h1>Monitoring visit {withWhom && `with ${withWhom}`}</h1>
        {busy && <p role="status">Connecting…</p>}
        {error && <p role="alert" className="error" data-testid="join-error">{error}</p>}
        <button type="button" className="btn" onClick={() => navigate(home)}>Back to console</button>
      </div>
    );
  }
  return (
    <PreJoin
      title={withWhom ? `Visit with ${withWhom}` : 'Get ready for your visit'}
      subtitle={visit ? `${formatTime(visit.start, config?.facility.timeZone)} – ${formatTime(visit.end, config?.facility.timeZone)}` : undefined}
      notice={visit ? privacyNotice(visit, 'before') : undefined}
      livekitUrl={config?.livekitUrl}
      busy={busy}
      error={error || (cannotEncrypt ? new E2EEUnsupportedError().message : '')}
      joinDisabled={cannotEncrypt}
      onJoin={(c) => void join(c)}
      onCancel={() => navigate(home)}
    />
  );
}
