import { RemoteParticipant, Room, RoomEvent } from 'livekit-client';
import { describe, expect, it, vi } from 'vitest';
import { LiveKitRoomHandle } from './LiveKitVideoProvider';

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
