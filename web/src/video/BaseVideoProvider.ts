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
}

export interface ConnectOptions {
  /** Publish the microphone; a device id picks which one. false = join muted. */
  audio?: boolean | { deviceId?: string };
  /** Publish the camera; a device id picks which one. false = join with camera off. */
  video?: boolean | { deviceId?: string };
  /** Subscribe only (staff monitoring): publish nothing. */
  monitor?: boolean;
}

/** A connected room. Disconnect it when the page that owns it goes away. */
export interface VideoRoomHandle {
  readonly provider: string;
  readonly roomName: string;
  setMicrophoneEnabled(enabled: boolean): Promise<void>;
  setCameraEnabled(enabled: boolean): Promise<void>;
  isMicrophoneEnabled(): boolean;
  isCameraEnabled(): boolean;
  switchDevice(kind: MediaKind, deviceId: string): Promise<void>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof VideoRoomEvents>(event: E, listener: VideoRoomEvents[E]): () => void;
  disconnect(): Promise<void>;
}

export interface BaseVideoProvider {
  /** The name GET /api/config reports as `videoProvider`. */
  readonly name: string;
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
