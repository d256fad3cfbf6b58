// `bpf2wasm map dump|lookup|update|delete prog.wasm|SOCKET MAP [KEY] [VALUE]`: bpftool's
// map commands over a module's maps in userspace. Given a module, the state is that of a
// test run in this process: initial contents, then `--katran-config` and `--update`
// provisioning, then `--pcap` (if given) run through the program, then the command. Given
// the control socket of a running `bpf2wasm run`, it is that instance's live maps
// (datapath/control.ts). Keys and values are hex bytes, as bpftool's.

import type { Argv } from 'yargs';
import { option, options, type SharedArgs } from './options.js';
import { DEFAULT_BUDGET } from '../runtime/budget.js';

interface MapArgs extends SharedArgs {
  op: 'dump' | 'lookup' | 'update' | 'delete';
  module: string;
  map: string;
  key?: string;
  value?: string;
}

function printPage(lines: string[]): Promise<void> | void {
  if (lines.length === 0 || process.stdout.write(`${lines.join('\n')}\n`)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

async function mapCommandLine(args: MapArgs): Promise<void> {
  const print = (line: string): void => void process.stdout.write(line + '\n');
  const { isControlSocket, dumpInstance, queryInstance } = await import('../datapath/control.js');
  if (isControlSocket(args.module)) {
    // A dump of a live instance is printed a page at a time, the next page asked for once
    // stdout has taken this one: bounded memory here and in the instance, however big the map.
    if (args.op === 'dump') await dumpInstance(args.module, args.map, (lines) => printPage(lines));
    else for (const line of await queryInstance(args.module, { op: args.op, map: args.map, key: args.key, value: args.value })) print(line);
    return;
  }
  const [{ prepareMachine, routeTablesIfUsed, runCapture }, { mapCommand }] = await Promise.all([
    import('./capture.js'),
    import('../runtime/map-commands.js'),
  ]);
  const machine = await prepareMachine(args);
  if (args.pcap) {
    const routeTables = await routeTablesIfUsed(machine);
    runCapture(machine, { pcap: args.pcap, program: args.program, cpu: 0, engine: 'wasm', budget: DEFAULT_BUDGET, repeat: 1, routeTables });
  }
  for (const line of mapCommand(machine, args.op, args.map, args.key, args.value)) print(line);
}

export function registerMap<T>(y: Argv<T>): Argv<T> {
  return y.command(
    'map <op> <module> <map> [key] [value]',
    'dump, lookup, update or delete map entries (hex): of a test run, or of a running instance given its control socket',
    (c) =>
      c
        .positional('op', { choices: ['dump', 'lookup', 'update', 'delete'] as const, demandOption: true })
        .positional('module', {
          type: 'string',
          demandOption: true,
          describe: "compiled module (or eBPF object), or a running instance's control socket",
        })
        .positional('map', { type: 'string', demandOption: true })
        .positional('key', { type: 'string' })
        .positional('value', { type: 'string' })
        .options({
          ...options('program', 'update', 'katran-config', 'max-cpus'),
          pcap: option('pcap', { describe: 'run this capture through the program first' }),
        }),
    (argv) => mapCommandLine(argv as unknown as MapArgs),
  ) as unknown as Argv<T>;
}
