import { describe, expect, it } from 'vitest';
import { DisconnectReason } from 'livekit-client';
import { createVideoProvider } from './createVideoProvider';
import { UnsupportedVideoProviderError } from './BaseVideoProvider';
import { LiveKitVideoProvider, endCauseFromLiveKit } from './LiveKitVideoProvider';

describe('createVideoProvider', () => {
  it('picks LiveKit when the config says livekit', () => {
    const p = createVideoProvider({ videoProvider: 'livekit' });
    expect(p).toBeInstanceOf(LiveKitVideoProvider);
    expect(p.name).toBe('livekit');
  });

  it('defaults to LiveKit when the config names no provider', () => {
    expect(createVideoProvider(null).name).toBe('livekit');
    expect(createVideoProvider({ videoProvider: '' }).name).toBe('livekit');
  });

  it('accepts the name in any case and with spaces', () => {
    expect(createVideoProvider({ videoProvider: ' LiveKit ' }).name).toBe('livekit');
  });

  it('rejects an unknown provider with a clear error naming it', () => {
    expect(() => createVideoProvider({ videoProvider: 'twilio' })).toThrow(UnsupportedVideoProviderError);
    expect(() => createVideoProvider({ videoProvider: 'twilio' })).toThrow(/"twilio".*does not support/);
  });

  it('does not treat Object.prototype keys as providers', () => {
    expect(() => createVideoProvider({ videoProvider: 'constructor' })).toThrow(UnsupportedVideoProviderError);
  });
});

describe('endCauseFromLiveKit', () => {
  it.each([
    [DisconnectReason.CLIENT_INITIATED, 'left'],
    [DisconnectReason.PARTICIPANT_REMOVED, 'removed'],
    [DisconnectReason.ROOM_DELETED, 'room_ended'],
    [DisconnectReason.ROOM_CLOSED, 'room_ended'],
    [DisconnectReason.DUPLICATE_IDENTITY, 'duplicate'],
    [DisconnectReason.SERVER_SHUTDOWN, 'server'],
    [DisconnectReason.UNKNOWN_REASON, 'connection_lost'],
    [undefined, 'connection_lost'],
  ])('maps %s to %s', (reason, cause) => {
    expect(endCauseFromLiveKit(reason)).toBe(cause);
  });
});
