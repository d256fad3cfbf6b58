// The options more than one command takes, defined once: each command picks its own with
// options(...). Only light modules are imported here (the defaults, not the compiler or
// the runtime), since --help builds every command's option table.

import type { Options, PositionalOptions } from 'yargs';
import { DEFAULT_MAX_CPUS } from '../core/abi.js';
import { DEFAULT_BUDGET } from '../runtime/budget.js';
import type { Engine } from '../runtime/machine.js';

const SHARED = {
  program: { alias: 'p', type: 'string', describe: 'program (function or section name); default: the first' },
  engine: { choices: ['wasm', 'interp'] as const, default: 'wasm' as Engine, describe: 'compiled module or reference interpreter' },
  budget: { type: 'number', default: DEFAULT_BUDGET, describe: 'back-edges per packet before it is aborted (0 = unlimited)' },
  'precise-clock': {
    type: 'boolean',
    default: false,
    describe: 'bpf_ktime_get_ns reads the clock on every call (default: once per batch of packets)',
  },
  'max-cpus': {
    type: 'number',
    default: DEFAULT_MAX_CPUS,
    describe: 'when compiling an eBPF object: CPUs (workers) its per-CPU maps are laid out for',
  },
  update: {
    type: 'string',
    array: true,
    describe:
      'MAP=KEYHEX:VALUEHEX applied before the first packet (devmap/cpumap: VALUEHEX+PROGRAM names an xdp/devmap or xdp/cpumap program); repeatable',
  },
  'katran-config': { type: 'string', describe: 'provision katran-layout maps from this JSON config (docs/katran-config.md)' },
  pcap: { type: 'string', describe: 'input capture (Ethernet, pcap format)' },
  out: { type: 'string', describe: 'write the resulting packets to this pcap' },
  json: { type: 'boolean', default: false, describe: 'one JSON object per packet: index, action, len, data (or error)' },
} satisfies Record<string, Options>;

export type SharedOption = keyof typeof SHARED;

/** The named shared options, for yargs' .options(). */
export function options<K extends SharedOption>(...names: K[]): Pick<typeof SHARED, K> {
  return Object.fromEntries(names.map((n) => [n, SHARED[n]])) as Pick<typeof SHARED, K>;
}

/** One shared option with some fields changed (a command's own wording or arity). */
export function option<K extends SharedOption>(name: K, changes: Options): Options {
  return { ...SHARED[name], ...changes };
}

/** The positional every packet command takes. */
export const MODULE_POSITIONAL: PositionalOptions = {
  type: 'string',
  demandOption: true,
  describe: 'module compiled by bpf2wasm, or an eBPF object to compile',
};

/** Arguments of the shared options, as a command's handler receives them. */
export interface SharedArgs {
  program?: string;
  engine: Engine;
  budget: number;
  'precise-clock': boolean;
  'max-cpus': number;
  update?: string[];
  'katran-config'?: string;
  pcap?: string;
  out?: string;
  json: boolean;
}
