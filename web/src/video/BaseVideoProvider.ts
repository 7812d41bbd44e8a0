// The video-provider seam: pages and components talk to a provider through these types only.
// Implementations (LiveKitVideoProvider) are the only code that imports a video SDK, apart from
// the provider's own room component that renders its participants.

/** Why a participant's connection to the room ended, in the UI's own words. */
export type VideoEndCause =
  | 'left'            // this person pressed Leave (or the page closed)
  | 'removed'         // staff removed this person from the visit
  | 'room_ended'      // the room was closed: the visit was ended or ran out of time
  | 'duplicate'       // the same person joined from another tab or device
  | 'connection_lost' // network failure that could not be recovered
  | 'server';         // the media server shut down or refused us

export type MediaKind = 'audioinput' | 'videoinput' | 'audiooutput';

export interface VideoRoomEvents {
  reconnecting: () => void;
  reconnected: () => void;
  disconnected: (cause: VideoEndCause) => void;
  /**
   * An application data message (the parlor app sends topic "parlor"). `fromServer` is true only
   * for messages the server itself sent (the app's RoomService SendData); a message another
   * participant sent has it false and must never be trusted as a control message.
   */
  data: (payload: Uint8Array, topic: string | undefined, fromServer: boolean) => void;
  /** This participant's media started or stopped being end-to-end encrypted. */
  encryption: (encrypted: boolean) => void;
  /** Media from someone could not be decrypted (a wrong or missing key on their side or ours). */
  decryptionError: () => void;
}

export interface ConnectOptions {
  /** Publish the microphone; a device id picks which one. false = join muted. */
  audio?: boolean | { deviceId?: string };
  /** Publish the camera; a device id picks which one. false = join with camera off. */
  video?: boolean | { deviceId?: string };
  /** Subscribe only (staff monitoring): publish nothing. */
  monitor?: boolean;
  /**
   * End-to-end encrypt all media with this shared key (base64url, as POST /api/calls/join gives it
   * for privileged visits). A provider that cannot encrypt must refuse to connect rather than join
   * in the clear: connect() then throws an E2EEUnsupportedError.
   */
  e2eeKey?: string;
}

/** A connected room. Disconnect it when the page that owns it goes away. */
export interface VideoRoomHandle {
  readonly provider: string;
  readonly roomName: string;
  setMicrophoneEnabled(enabled: boolean): Promise<void>;
  setCameraEnabled(enabled: boolean): Promise<void>;
  isMicrophoneEnabled(): boolean;
  isCameraEnabled(): boolean;
  /** True once this participant's media is end-to-end encrypted (see the `encryption` event). */
  isEncrypted(): boolean;
  switchDevice(kind: MediaKind, deviceId: string): Promise<void>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof VideoRoomEvents>(event: E, listener: VideoRoomEvents[E]): () => void;
  disconnect(): Promise<void>;
}

export interface BaseVideoProvider {
  /** The name GET /api/config reports as `videoProvider`. */
  readonly name: string;
  /** Whether this browser can end-to-end encrypt a room (needed for privileged visits). */
  supportsE2EE(): boolean;
  connect(url: string, token: string, options?: ConnectOptions): Promise<VideoRoomHandle>;
}

/** The config can name a provider this build does not have. */
export class UnsupportedVideoProviderError extends Error {
  constructor(readonly providerName: string) {
    super(`This facility uses the video service "${providerName}", which this version of Parlor does not support. ` +
      'Please contact the facility.');
    this.name = 'UnsupportedVideoProviderError';
  }
}

/** Connecting to the room failed; `message` is fit to show a person. */
export class VideoConnectError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = 'VideoConnectError';
  }
}

/** A privileged visit needs end-to-end encryption, and this browser (or provider) cannot do it. */
export class E2EEUnsupportedError extends VideoConnectError {
  constructor() {
    super('This is a privileged visit, which must be end-to-end encrypted, and this browser cannot do that. ' +
      'Nothing was sent. Please join from an up-to-date Chrome, Edge, Firefox or Safari.');
    this.name = 'E2EEUnsupportedError';
  }
}
