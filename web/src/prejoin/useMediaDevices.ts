import { useEffect, useState } from 'react';

/** The cameras, microphones and speakers the browser reports; refreshed on devicechange and `refreshKey`. */
export function useMediaDevices(refreshKey: unknown): MediaDeviceInfo[] {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return;
    let live = true;
    const load = () => md.enumerateDevices().then((d) => { if (live) setDevices(d); }).catch(() => {});
    void load();
    md.addEventListener?.('devicechange', load);
    return () => { live = false; md.removeEventListener?.('devicechange', load); };
  }, [refreshKey]);
  return devices;
}

export function deviceLabel(d: MediaDeviceInfo, index: number): string {
  if (d.label) return d.label;
  const kind = d.kind === 'videoinput' ? 'Camera' : d.kind === 'audioinput' ? 'Microphone' : 'Speaker';
  return `${kind} ${index + 1}`;
}
