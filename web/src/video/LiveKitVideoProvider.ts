// BaseVideoProvider over livekit-client: one Room per connect(), listeners removed on disconnect.
import { ConnectionError, ConnectionErrorReason, DisconnectReason, Room, RoomEvent, type RoomOptions } from 'livekit-client';
import {
  VideoConnectError, type BaseVideoProvider, type ConnectOptions, type MediaKind, type VideoEndCause, type VideoRoomEvents,
  type VideoRoomHandle,
} from './BaseVideoProvider';

/** Maps LiveKit's DisconnectReason onto the UI's causes (see livekit_models.proto). */
export function endCauseFromLiveKit(reason: DisconnectReason | undefined): VideoEndCause {
  switch (reason) {
    case DisconnectReason.CLIENT_INITIATED: return 'left';
    case DisconnectReason.PARTICIPANT_REMOVED: return 'removed';
    case DisconnectReason.ROOM_DELETED:
    case DisconnectReason.ROOM_CLOSED: return 'room_ended';
    case DisconnectReason.DUPLICATE_IDENTITY: return 'duplicate';
    case DisconnectReason.SERVER_SHUTDOWN:
    case DisconnectReason.JOIN_FAILURE:
    case DisconnectReason.STATE_MISMATCH: return 'server';
    default: return 'connection_lost';
  }
}

/** A person-sized explanation of a failed room.connect(). */
export function connectErrorMessage(e: unknown): string {
  if (e instanceof ConnectionError) {
    switch (e.reason) {
      case ConnectionErrorReason.NotAllowed:
        return 'Your pass for this visit was not accepted. Go back and join again.';
      case ConnectionErrorReason.Cancelled:
        return 'Joining was stopped before it finished.';
      default:
        break;
    }
  }
  return 'We could not connect you to the visit. Check your internet connection and try again; ' +
    'if it keeps happening, please contact the facility.';
}

function deviceOf(o: ConnectOptions['audio']): string | undefined {
  return typeof o === 'object' ? o.deviceId : undefined;
}

function wanted(o: ConnectOptions['audio']): boolean {
  return o === undefined || o === true || typeof o === 'object';
}

export class LiveKitRoomHandle implements VideoRoomHandle {
  readonly provider = 'livekit';
  private readonly off: (() => void)[] = [];
  private left = false;

  constructor(readonly room: Room) {}

  get roomName() { return this.room.name; }

  setMicrophoneEnabled(enabled: boolean) {
    return this.room.localParticipant.setMicrophoneEnabled(enabled).then(() => undefined);
  }
  setCameraEnabled(enabled: boolean) {
    return this.room.localParticipant.setCameraEnabled(enabled).then(() => undefined);
  }
  isMicrophoneEnabled() { return this.room.localParticipant.isMicrophoneEnabled; }
  isCameraEnabled() { return this.room.localParticipant.isCameraEnabled; }
  async switchDevice(kind: MediaKind, deviceId: string) {
    await this.room.switchActiveDevice(kind, deviceId);
  }

  on<E extends keyof VideoRoomEvents>(event: E, listener: VideoRoomEvents[E]): () => void {
    let remove: () => void;
    switch (event) {
      case 'reconnecting': {
        const fn = listener as VideoRoomEvents['reconnecting'];
        this.room.on(RoomEvent.Reconnecting, fn);
        remove = () => this.room.off(RoomEvent.Reconnecting, fn);
        break;
      }
      case 'reconnected': {
        const fn = listener as VideoRoomEvents['reconnected'];
        this.room.on(RoomEvent.Reconnected, fn);
        remove = () => this.room.off(RoomEvent.Reconnected, fn);
        break;
      }
      case 'disconnected': {
        const fn = (reason?: DisconnectReason) =>
          (listener as VideoRoomEvents['disconnected'])(this.left ? 'left' : endCauseFromLiveKit(reason));
        this.room.on(RoomEvent.Disconnected, fn);
        remove = () => this.room.off(RoomEvent.Disconnected, fn);
        break;
      }
      case 'data': {
        // livekit-client passes no participant for a packet the server sent (RoomService
        // SendData); one relayed from another participant names its sender. The sender's
        // identity (stamped by the server) is checked too: a packet from someone this client
        // does not know yet also comes without a participant object.
        const fn = (payload: Uint8Array, participant: unknown, _k: unknown, topic?: string, _e?: unknown, identity?: string) =>
          (listener as VideoRoomEvents['data'])(payload, topic, participant === undefined && !identity);
        this.room.on(RoomEvent.DataReceived, fn);
        remove = () => this.room.off(RoomEvent.DataReceived, fn);
        break;
      }
      default:
        throw new Error(`unknown event ${String(event)}`);
    }
    this.off.push(remove);
    return remove;
  }

  async disconnect() {
    this.left = true;
    await this.room.disconnect();
    for (const f of this.off.splice(0)) f();
  }
}

export class LiveKitVideoProvider implements BaseVideoProvider {
  readonly name = 'livekit';

  constructor(private readonly roomOptions: RoomOptions = {}) {}

  async connect(url: string, token: string, options: ConnectOptions = {}): Promise<LiveKitRoomHandle> {
    const room = new Room({
      adaptiveStream: true,
      dynacast: true,
      ...this.roomOptions,
      audioCaptureDefaults: { deviceId: deviceOf(options.audio), echoCancellation: true, noiseSuppression: true },
      videoCaptureDefaults: { deviceId: deviceOf(options.video), resolution: { width: 1280, height: 720, frameRate: 30 } },
    });
    try {
      await room.connect(url, token, { autoSubscribe: true });
    } catch (e) {
      throw new VideoConnectError(connectErrorMessage(e), e);
    }
    if (!options.monitor) {
      // A camera or mic that fails (busy, denied) must not keep the person out of the visit.
      await Promise.allSettled([
        wanted(options.audio) ? room.localParticipant.setMicrophoneEnabled(true) : Promise.resolve(),
        wanted(options.video) ? room.localParticipant.setCameraEnabled(true) : Promise.resolve(),
      ]);
    }
    return new LiveKitRoomHandle(room);
  }
}
