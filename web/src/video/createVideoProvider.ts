import type { AppConfig } from '../api/types';
import { UnsupportedVideoProviderError, type BaseVideoProvider } from './BaseVideoProvider';
import { LiveKitVideoProvider } from './LiveKitVideoProvider';

type Factory = () => BaseVideoProvider;

const providers: Record<string, Factory> = {
  livekit: () => new LiveKitVideoProvider(),
};

/** Picks the provider GET /api/config names ("livekit" when it names none). */
export function createVideoProvider(config: Pick<AppConfig, 'videoProvider'> | null | undefined): BaseVideoProvider {
  const name = (config?.videoProvider ?? '').trim().toLowerCase() || 'livekit';
  const make = Object.prototype.hasOwnProperty.call(providers, name) ? providers[name] : undefined;
  if (!make) throw new UnsupportedVideoProviderError(config?.videoProvider ?? name);
  return make();
}
