import { RemoteParticipant, Room, RoomEvent } from 'livekit-client';
import { describe, expect, it, vi } from 'vitest';
import { E2EEUnsupportedError, VideoConnectError } from './BaseVideoProvider';
import { LiveKitRoomHandle, LiveKitVideoProvider } from './LiveKitVideoProvider';

const payload = new TextEncoder().encode('{"type":"visit_ended","reason":"x"}');

describe('LiveKitRoomHandle data messages', () => {
  it('marks a packet as from the server only when livekit-client gives no participant', () => {
    const room = new Room();
    const handle = new LiveKitRoomHandle(room);
    const listener = vi.fn();
    const off = handle.on('data', listener);

    // What livekit-client emits for a server-sent DataPacket (RoomService SendData).
    room.emit(RoomEvent.DataReceived, payload, undefined, undefined, 'parlor', undefined, '');
    expect(listener).toHaveBeenLastCalledWith(payload, 'parlor', true);

    // A packet relayed from another participant names its sender.
    const mallory = {
      identity: 'visitor-9', sid: 'PA_mallory', name: 'Mallory',
    } as unknown as RemoteParticipant;
    room.emit(RoomEvent.DataReceived, payload, mallory, undefined, 'parlor', undefined, 'visitor-9');
    expect(listener).toHaveBeenLastCalledWith(payload, 'parlor', false);
    // From a participant this client has not heard of yet: no participant object, but the
    // server-stamped identity is there.
    room.emit(RoomEvent.DataReceived, payload, undefined, undefined, 'parlor', undefined, 'visitor-9');
    expect(listener).toHaveBeenLastCalledWith(payload, 'parlor', false);
    expect(listener).toHaveBeenCalledTimes(3);

    off();
    room.emit(RoomEvent.DataReceived, payload, undefined, undefined, 'parlor');
    expect(listener).toHaveBeenCalledTimes(3);
  });
});

describe('LiveKitVideoProvider end-to-end encryption', () => {
  // jsdom has neither insertable streams nor RTCRtpScriptTransform: a browser that cannot encrypt.
  it('reports that this environment cannot encrypt', () => {
    expect(new LiveKitVideoProvider().supportsE2EE()).toBe(false);
  });

  it('refuses to connect a privileged room it cannot encrypt', async () => {
    const p = new LiveKitVideoProvider().connect('ws://127.0.0.1:9', 'token', { e2eeKey: 'q2Lm0cZ3n6Jm1oXb5r8yT4uV7wA9dF0gH2jK4lN6pQ8' });
    await expect(p).rejects.toBeInstanceOf(E2EEUnsupportedError);
    await expect(p).rejects.toThrow(/privileged visit/);
    // Without a key the same call gets as far as connecting (and fails there: no WebRTC in jsdom).
    const plain = new LiveKitVideoProvider().connect('ws://127.0.0.1:9', 'token', { audio: false, video: false });
    await expect(plain).rejects.toBeInstanceOf(VideoConnectError);
    await expect(plain).rejects.not.toBeInstanceOf(E2EEUnsupportedError);
  });

  it('refuses an empty or damaged key before anything else', async () => {
    for (const key of ['', 'short', 'not base64url!!!!!!!!!!!!!!!!!!!!!!!']) {
      const p = new LiveKitVideoProvider().connect('ws://127.0.0.1:9', 'token', { e2eeKey: key });
      await expect(p).rejects.toBeInstanceOf(VideoConnectError);
      await expect(p).rejects.toThrow(/key/);
    }
  });

  it('reports its own encryption status from livekit-client, not other participants\'', () => {
    const room = new Room();
    const handle = new LiveKitRoomHandle(room);
    const seen: boolean[] = [];
    handle.on('encryption', (e) => seen.push(e));
    const other = { identity: 'visitor-9' } as unknown as RemoteParticipant;
    room.emit(RoomEvent.ParticipantEncryptionStatusChanged, true, other);
    room.emit(RoomEvent.ParticipantEncryptionStatusChanged, true, room.localParticipant);
    expect(seen).toEqual([true]);
    expect(handle.isEncrypted()).toBe(false); // livekit-client sets this itself when its worker confirms
    const errors = vi.fn();
    handle.on('decryptionError', errors);
    room.emit(RoomEvent.EncryptionError, new Error('decrypt failed'), other);
    expect(errors).toHaveBeenCalledOnce();
  });
});
