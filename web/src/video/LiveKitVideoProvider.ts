// BaseVideoProvider over livekit-client: one Room per connect(), listeners removed on disconnect.
import {
  ConnectionError, ConnectionErrorReason, DisconnectReason, ExternalE2EEKeyProvider, isE2EESupported, Room, RoomEvent,
  type Participant, type RoomOptions,
} from 'livekit-client';
import {
  E2EEUnsupportedError, VideoConnectError, type BaseVideoProvider, type ConnectOptions, type MediaKind, type VideoEndCause, type VideoRoomEvents,
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

/**
 * livekit-client's frame-encryption worker. Vite sees `new URL(…, import.meta.url)` inside
 * `new Worker` and bundles the package's `e2ee-worker` export as its own chunk; it only loads
 * when a privileged visit is joined.
 */
function createE2EEWorker(): Worker {
  return new Worker(new URL('livekit-client/e2ee-worker', import.meta.url), { type: 'module' });
}

export class LiveKitRoomHandle implements VideoRoomHandle {
  readonly provider = 'livekit';
  private readonly off: (() => void)[] = [];
  private left = false;

  /** `e2eeWorker`: the encryption worker this room uses, owned (and ended) by the handle. */
  constructor(readonly room: Room, e2eeWorker?: Worker) {
    if (e2eeWorker) {
      // However the room ends (Leave, removed, visit over), the worker goes with it.
      const end = () => { room.off(RoomEvent.Disconnected, end); e2eeWorker.terminate(); };
      room.on(RoomEvent.Disconnected, end);
    }
  }

  get roomName() { return this.room.name; }

  setMicrophoneEnabled(enabled: boolean) {
    return this.room.localParticipant.setMicrophoneEnabled(enabled).then(() => undefined);
  }
  setCameraEnabled(enabled: boolean) {
    return this.room.localParticipant.setCameraEnabled(enabled).then(() => undefined);
  }
  isMicrophoneEnabled() { return this.room.localParticipant.isMicrophoneEnabled; }
  isCameraEnabled() { return this.room.localParticipant.isCameraEnabled; }
  isEncrypted() { return this.room.isE2EEEnabled; }
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
      case 'encryption': {
        // Only our own status: it turns true once the worker encrypts what we publish.
        const fn = (enabled: boolean, participant?: Participant) => {
          if (!participant || participant === this.room.localParticipant) (listener as VideoRoomEvents['encryption'])(enabled);
        };
        this.room.on(RoomEvent.ParticipantEncryptionStatusChanged, fn);
        remove = () => this.room.off(RoomEvent.ParticipantEncryptionStatusChanged, fn);
        break;
      }
      case 'decryptionError': {
        const fn = () => (listener as VideoRoomEvents['decryptionError'])();
        this.room.on(RoomEvent.EncryptionError, fn);
        remove = () => this.room.off(RoomEvent.EncryptionError, fn);
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

  supportsE2EE() { return isE2EESupported() && typeof Worker !== 'undefined'; }

  async connect(url: string, token: string, options: ConnectOptions = {}): Promise<LiveKitRoomHandle> {
    const e2ee = options.e2eeKey === undefined ? undefined : await this.prepareE2EE(options.e2eeKey);
    let room: Room;
    try {
      room = new Room({
        adaptiveStream: true,
        dynacast: true,
        ...this.roomOptions,
        audioCaptureDefaults: { deviceId: deviceOf(options.audio), echoCancellation: true, noiseSuppression: true },
        videoCaptureDefaults: { deviceId: deviceOf(options.video), resolution: { width: 1280, height: 720, frameRate: 30 } },
        ...(e2ee ? { encryption: e2ee } : {}),
      });
      // Before connecting, so that nothing is ever published in the clear (LiveKit's own order).
      if (e2ee) await room.setE2EEEnabled(true);
    } catch (e) {
      e2ee?.worker.terminate();
      throw e2ee ? new E2EEUnsupportedError() : e;
    }
    try {
      await room.connect(url, token, { autoSubscribe: true });
    } catch (e) {
      e2ee?.worker.terminate();
      throw new VideoConnectError(connectErrorMessage(e), e);
    }
    if (!options.monitor) {
      // A camera or mic that fails (busy, denied) must not keep the person out of the visit.
      await Promise.allSettled([
        wanted(options.audio) ? room.localParticipant.setMicrophoneEnabled(true) : Promise.resolve(),
        wanted(options.video) ? room.localParticipant.setCameraEnabled(true) : Promise.resolve(),
      ]);
    }
    return new LiveKitRoomHandle(room, e2ee?.worker);
  }

  /**
   * The key provider and worker for an encrypted room. The key is given to the provider as the
   * string the app sent: livekit-client derives the frame key from a string with PBKDF2, which is
   * what LiveKit's other SDKs do too (an ArrayBuffer would use HKDF, which not all of them have).
   */
  private async prepareE2EE(key: string): Promise<{ keyProvider: ExternalE2EEKeyProvider; worker: Worker }> {
    if (!/^[A-Za-z0-9_-]{22,}={0,2}$/.test(key)) {
      throw new VideoConnectError('The encryption key for this privileged visit is missing or damaged, so you were not ' +
        'connected. Please go back and join again.');
    }
    if (!this.supportsE2EE()) throw new E2EEUnsupportedError();
    const keyProvider = new ExternalE2EEKeyProvider();
    try {
      await keyProvider.setKey(key);
    } catch {
      throw new E2EEUnsupportedError(); // no WebCrypto (e.g. a page not served over HTTPS)
    }
    let worker: Worker;
    try {
      worker = createE2EEWorker();
    } catch {
      throw new E2EEUnsupportedError();
    }
    return { keyProvider, worker };
  }
}
