// `run --katran`: the katran control plane over the live instance's maps. The LRUs are
// created per worker (forwarding cores 0..queues-1, as katran makes one per forwarding
// CPU), the config file is applied before the first packet, and the gRPC KatranService
// serves katran's clients while packets flow.

import { UserError } from '../core/errors.js';
import { readInputText } from '../core/files.js';
import type { BpfMachine } from '../runtime/machine.js';
import { KatranLb } from '../katran/control-plane.js';
import { UserspaceKatranMaps } from '../katran/maps/userspace-maps.js';
import { applyKatranConfig, parseKatranConfig, sizesFromMaps } from '../katran/config.js';
import { startKatranGrpcServer, type KatranGrpcServer } from '../katran/grpc/server.js';

export interface KatranLiveOptions {
  configPath?: string;
  /** host:port for the gRPC KatranService; none = no server. */
  grpc?: string;
  /** Total LRU entries, split over the workers (katran's default of 8M is a kernel's size). */
  lruSize?: number;
}

export interface KatranAttachment {
  lb: KatranLb;
  grpc?: KatranGrpcServer;
  close(): Promise<void>;
}

export const DEFAULT_LIVE_LRU_SIZE = 100_000;

export async function startKatran(machine: BpfMachine, options: KatranLiveOptions, workers: number): Promise<KatranAttachment> {
  const maps = new UserspaceKatranMaps(machine.maps);
  if (!machine.maps.find('vip_map') || !machine.maps.find('ch_rings')) {
    throw new UserError(`--katran: ${machine.loaded.label} has no katran maps (vip_map, ch_rings)`);
  }
  const overrides = {
    forwardingCores: Array.from({ length: workers }, (_, i) => i),
    lruSize: options.lruSize ?? DEFAULT_LIVE_LRU_SIZE,
  };
  let lb: KatranLb;
  if (options.configPath) {
    const text = readInputText(options.configPath);
    const config = parseKatranConfig(text, options.configPath);
    lb = applyKatranConfig(maps, config, {
      ...overrides,
      ...(config.forwardingCores ? { forwardingCores: config.forwardingCores } : {}),
      ...(config.lruSize !== undefined && options.lruSize === undefined ? { lruSize: config.lruSize } : {}),
    });
  } else {
    lb = new KatranLb(maps, { ...sizesFromMaps(maps), ...overrides });
    lb.init();
  }
  const grpc = options.grpc ? await startKatranGrpcServer(lb, options.grpc) : undefined;
  return { lb, grpc, close: async () => grpc?.close() };
}
