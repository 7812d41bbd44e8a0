import { useEffect, useState } from 'react';

export interface PreviewChoice {
  videoEnabled: boolean;
  audioEnabled: boolean;
  videoDeviceId?: string;
  audioDeviceId?: string;
}

/** Explains a getUserMedia failure to a person. */
export function mediaErrorMessage(e: unknown): string {
  const name = (e as { name?: string })?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Your browser is not allowing Parlor to use the camera or microphone. Allow it in the address bar, then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'We could not find a camera or microphone. Check that one is plugged in.';
    case 'NotReadableError':
    case 'AbortError':
      return 'Your camera or microphone is busy in another app. Close that app and try again.';
    default:
      return 'We could not start your camera or microphone.';
  }
}

/** The local preview: opens the chosen devices, stops them when the choice changes or on unmount. */
export function usePreviewStream(choice: PreviewChoice) {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState('');
  const { videoEnabled, audioEnabled, videoDeviceId, audioDeviceId } = choice;

  useEffect(() => {
    if (!videoEnabled && !audioEnabled) { setStream(null); setError(''); return; }
    if (!navigator.mediaDevices?.getUserMedia) {
      setError('This browser cannot use a camera. Please use an up-to-date Chrome, Edge, Firefox or Safari.');
      return;
    }
    let live = true;
    let opened: MediaStream | null = null;
    navigator.mediaDevices.getUserMedia({
      video: videoEnabled ? { deviceId: videoDeviceId ? { exact: videoDeviceId } : undefined, width: 1280, height: 720 } : false,
      audio: audioEnabled ? { deviceId: audioDeviceId ? { exact: audioDeviceId } : undefined, echoCancellation: true } : false,
    }).then((s) => {
      if (!live) { s.getTracks().forEach((t) => t.stop()); return; }
      opened = s;
      setStream(s);
      setError('');
    }).catch((e) => { if (live) { setStream(null); setError(mediaErrorMessage(e)); } });
    return () => {
      live = false;
      opened?.getTracks().forEach((t) => t.stop());
    };
  }, [videoEnabled, audioEnabled, videoDeviceId, audioDeviceId]);

  return { stream, error };
}
