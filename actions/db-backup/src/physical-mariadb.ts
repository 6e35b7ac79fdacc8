import { ConfigurationError } from '@deploy-suite/kit';
import type { Settings } from './settings.ts';
import type { MariaDbPhysicalSettings } from './physical-settings.ts';

export function runMariaDbPhysical(settings: Settings, physical: MariaDbPhysicalSettings): Promise<void> {
  return Promise.reject(
    new ConfigurationError(`method physical on MariaDB is not wired yet (${settings.command}, ${physical.type})`),
  );
}
