// `bpf2wasm map dump|lookup|update|delete prog.wasm|SOCKET MAP [KEY] [VALUE]`: bpftool's
// map commands over a module's maps in userspace. Given a module, the state is that of a
// test run in this process: initial contents, then `--update` provisioning, then `--pcap`
// (if given) run through the program, then the command. Given the control socket of a
// running `bpf2wasm run`, it is that instance's live maps (live/control.ts). Keys and
// values are hex bytes, as bpftool's.

import type { Argv } from 'yargs';
import { UserError } from '../core/errors.js';
import type { BpfMachine } from './machine.js';

export interface MapUpdate {
  map: string;
  key: Uint8Array;
  value: Uint8Array;
}

export function parseHex(text: string, what: string): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (clean.length === 0 || clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new UserError(`${what} '${text}' is not hex bytes (e.g. 0a000001)`);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** `MAP=KEY:VALUE`, both hex: the --update option of test-run and map. */
export function parseUpdate(text: string): MapUpdate {
  const m = text.match(/^([^=]+)=([^:]+):(.+)$/);
  if (!m) throw new UserError(`--update '${text}' is not MAP=KEYHEX:VALUEHEX`);
  return { map: m[1], key: parseHex(m[2], 'key'), value: parseHex(m[3], 'value') };
}

export function applyUpdates(machine: BpfMachine, updates: readonly string[] = []): void {
  for (const u of updates.map(parseUpdate)) mapOf(machine, u.map).updateBytes(u.key, u.value);
}

function mapOf(machine: BpfMachine, name: string) {
  const map = machine.maps.find(name);
  if (!map) throw new UserError(`no map '${name}' (maps: ${machine.manifest.maps.map((m) => m.name).join(', ')})`);
  return map;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function mapCommand(machine: BpfMachine, op: string, name: string, key?: string, value?: string): string[] {
  const map = mapOf(machine, name);
  const needKey = (): Uint8Array => {
    if (key === undefined) throw new UserError(`map ${op} needs a KEY`);
    return parseHex(key, 'key');
  };
  switch (op) {
    case 'dump':
      return [...map.entries()].map(([k, v]) => `key ${hex(k)} value ${hex(v)}`);
    case 'lookup': {
      const v = map.lookupBytes(needKey());
      if (!v) throw new UserError(`map ${name}: no entry for key ${key}`);
      return [`key ${hex(needKey())} value ${hex(v)}`];
    }
    case 'update':
      if (value === undefined) throw new UserError('map update needs a KEY and a VALUE');
      map.updateBytes(needKey(), parseHex(value, 'value'));
      return [];
    case 'delete':
      map.deleteBytes(needKey());
      return [];
  }
  throw new UserError(`unknown map command '${op}' (dump, lookup, update, delete)`);
}

export interface MapArgs {
  op: string;
  module: string;
  map: string;
  key?: string;
  value?: string;
  pcap?: string;
  update?: string[];
  'katran-config'?: string;
  program?: string;
}

export function registerMapCommand<T>(y: Argv<T>, run: (args: MapArgs) => void | Promise<void>): Argv<T> {
  return y.command(
    'map <op> <module> <map> [key] [value]',
    'dump, lookup, update or delete map entries (hex): of a test run, or of a running instance given its control socket',
    (c) =>
      c
        .positional('op', { choices: ['dump', 'lookup', 'update', 'delete'] as const, demandOption: true })
        .positional('module', { type: 'string', demandOption: true, describe: 'compiled module, or a running instance\'s control socket' })
        .positional('map', { type: 'string', demandOption: true })
        .positional('key', { type: 'string' })
        .positional('value', { type: 'string' })
        .option('pcap', { type: 'string', describe: 'run this capture through the program first' })
        .option('update', { type: 'string', array: true, describe: 'MAP=KEYHEX:VALUEHEX applied before the run; repeatable' })
        .option('katran-config', { type: 'string', describe: 'provision katran-layout maps from this JSON config' })
        .option('program', { alias: 'p', type: 'string' }),
    (argv) => run(argv as unknown as MapArgs),
  ) as unknown as Argv<T>;
}
