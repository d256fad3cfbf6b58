// The device check of devmap updates (runtime/maps/redirect-value.ts setDeviceExists): the
// kernel's devmap takes only an ifindex of an existing device in the updating process's
// network namespace; RTM_GETLINK through the addon asks that very namespace.

import { MAP_TYPE } from '../core/map-types.js';
import type { Manifest } from '../core/manifest.js';
import { nativeAddonIfBuilt } from './addon.js';

/** Whether the module has a devmap or devmap_hash (only then is the addon loaded for this). */
export const hasDevmap = (manifest: Manifest): boolean =>
  manifest.maps.some((m) => m.type === MAP_TYPE.DEVMAP || m.type === MAP_TYPE.DEVMAP_HASH);

/** "Does a device have this ifindex here?", when the addon is built. */
export function hostDeviceExists(): ((ifindex: number) => boolean) | undefined {
  const addon = nativeAddonIfBuilt();
  return addon ? (ifindex) => addon.linkGet(ifindex) !== undefined : undefined;
}
