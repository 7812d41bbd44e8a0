import { vi } from 'vitest';
import type { VideoRoomEvents, VideoRoomHandle } from '../video/BaseVideoProvider';

/** A provider handle that lets the test fire room events. */
export class FakeHandle implements VideoRoomHandle {
  readonly provider = 'fake';
  readonly roomName = 'visit-1';
  listeners: { [E in keyof VideoRoomEvents]?: VideoRoomEvents[E][] } = {};
  setMicrophoneEnabled = vi.fn(async () => {});
  setCameraEnabled = vi.fn(async () => {});
  isMicrophoneEnabled = () => true;
  isCameraEnabled = () => true;
  encrypted = false;
  isEncrypted = () => this.encrypted;
  switchDevice = vi.fn(async () => {});
  disconnect = vi.fn(async () => {});
  on<E extends keyof VideoRoomEvents>(e: E, fn: VideoRoomEvents[E]) {
    (this.listeners[e] ??= [] as never[]).push(fn as never);
    return () => { this.listeners[e] = (this.listeners[e] as VideoRoomEvents[E][]).filter((f) => f !== fn) as never; };
  }
  emit<E extends keyof VideoRoomEvents>(e: E, ...args: Parameters<VideoRoomEvents[E]>) {
    for (const f of this.listeners[e] ?? []) (f as (...a: unknown[]) => void)(...args);
  }
}

