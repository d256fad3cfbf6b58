// Differential tests against the Linux kernel: the same object runs in the kernel
// (BPF_PROG_TEST_RUN through runtime/kernel.ts), as compiled wasm and on the interpreter,
// over the same packet corpus with the same initial map contents. The verdict, the output
// bytes and, at the end, every map's contents (global data included) and every ring
// buffer's records (bytes and order, drained as a reader would) must agree. Per-CPU
// maps are compared as sums over CPUs, since the kernel runs each test on whichever CPU it is on.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { isPerCpu } from '../../core/map-types.js';
import { MAP_TYPE } from '../../core/map-types.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import type { RingbufMap } from '../../runtime/maps/index.js';
import { KernelObject, kernelMissing } from '../../native/kernel.js';
import { XDP_ACTION_NAME } from '../../runtime/xdp.js';
import { compileBpf } from '../support/clang.js';
import { corpus, jumboFrame } from '../../packets/corpus.js';
import { skip } from '../support/skip.js';
import { exampleNames, examplePath } from '../support/examples.js';
import { packageRoot } from '../../core/package-root.js';

const root = packageRoot;
const fixtures = join(root, 'test', 'fixtures', 'kernel');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Initial map contents per fixture (map name -> [key, value] hex pairs). */
const PROVISION: Record<string, Record<string, [string, string][]>> = {
  parse_count: { tunnel_dst: [['00000000', '0a000002']] },
  // Nested prefixes, verdicts alternating with depth (drop 1, pass 0), so that only the
  // longest match gives the kernel's answer for the corpus's sources: 192.168.1.1 (/24
  // drop), 192.168.1.2 (/32 pass), 172.16.104.123 (/24 pass), fc00:2::1 (/32 pass),
  // 100::7 (/128 drop).
  xdp_acl: {
    acl_v4: [
      ['08000000c0000000', '01000000'],
      ['10000000c0a80000', '00000000'],
      ['18000000c0a80100', '01000000'],
      ['20000000c0a80102', '00000000'],
      ['0c000000ac100000', '01000000'],
      ['18000000ac106800', '00000000'],
    ],
    acl_v6: [
      [`07000000fc${'0'.repeat(30)}`, '01000000'],
      [`20000000fc000002${'0'.repeat(24)}`, '00000000'],
      [`0800000001${'0'.repeat(30)}`, '00000000'],
      ['80000000' + '01000000000000000000000000000007', '01000000'],
    ],
  },
  // devmap slot 1 -> ifindex 1 (lo): redirects to key 1 succeed, key 0 falls back to PASS.
  calls_loops: { ports: [['01000000', '01000000']] },
  // The real of the example topology: 10.0.0.2 and fc00::2 are decapsulated.
  xdp_decap: {
    decap_dst_v4: [['0a000002', '01000000']],
    decap_dst_v6: [['fc000000000000000000000000000002', '01000000']],
  },
};

/** Set-up that is not plain bytes: program slots of prog_arrays (fixture -> [map, slot, program]). */
const PROGRAM_SLOTS: Record<string, [string, number, string][]> = {
  calls_loops: [['jump', 0, 'tail_target']],
};
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** The corpus plus copies with other destination MACs (programs branch on them). */
function frames() {
  const base = [...corpus(), jumboFrame()];
  const variants = base.slice(0, 6).flatMap((f) =>
    (
      [
        [0x01, 0x00],
        [0x03, 0x01],
        [0x02, 0x01],
      ] as const
    ).map(([b0, b1]) => {
      const bytes = f.bytes.slice();
      bytes[0] = b0;
      bytes[1] = b1;
      return { name: `${f.name} (dst mac ${b0.toString(16)}:${b1.toString(16)})`, bytes };
    }),
  );
  return [...base, ...variants];
}

/** Sum per-CPU values word by word (u64 little-endian), so CPU placement does not matter. */
function sumPerCpu(values: Uint8Array[], valueSize: number): string {
  const words = Math.ceil(valueSize / 8);
  const sums = new Array<bigint>(words).fill(0n);
  for (const v of values) {
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    // w < words indexes sums, and w * 8 < v.length indexes v.
    for (let w = 0; w < words && w * 8 < v.length; w++)
      sums[w] = sums[w]! + (v.length >= w * 8 + 8 ? view.getBigUint64(w * 8, true) : BigInt(v[w * 8]!));
  }
  return sums.map((s) => s.toString()).join(',');
}

const unavailable = kernelMissing();
// Our fixtures, and the examples the kernel loads (libbpf 1.x refuses legacy `maps`).
const sources = [
  ...readdirSync(fixtures)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => ({ name: f.replace(/\.c$/, ''), object: () => compileBpf(join(fixtures, f)) })),
  ...exampleNames()
    .filter((n) => n !== 'legacy_maps')
    .map((n) => ({ name: n, object: () => examplePath(n) })),
];

for (const source of sources) {
  const name = source.name;
  test(`${name}: kernel, wasm and interpreter agree on every packet and map`, () => {
    if (unavailable) return void skip(`kernel differential ${name}`, unavailable);
    const object = source.object();
    const obj = loadObject(new Uint8Array(readFileSync(object)), object);
    const loaded = loadWasm(compileObject(obj).wasm, name);
    // The entry under test: the one named like the fixture, else the first.
    const program = (obj.programs.find((p) => p.name === name) ?? obj.programs[0])?.name;
    if (program === undefined) throw new Error(`${object} has no programs`);
    const kernel = KernelObject.load(object);
    try {
      const engines = {
        wasm: BpfMachine.create(loaded),
        interp: BpfMachine.create(loaded),
      };
      const workers = { wasm: engines.wasm.worker(0, { engine: 'wasm' }), interp: engines.interp.worker(0, { engine: 'interp' }) };
      for (const [map, entries] of Object.entries(PROVISION[name] ?? {})) {
        for (const [k, v] of entries) {
          const key = Buffer.from(k, 'hex');
          const value = Buffer.from(v, 'hex');
          kernel.update(map, key, value);
          engines.wasm.maps.byNameOrThrow(map).updateBytes(key, value);
          engines.interp.maps.byNameOrThrow(map).updateBytes(key, value);
        }
      }
      for (const [map, slot, prog] of PROGRAM_SLOTS[name] ?? []) {
        kernel.setProgram(map, slot, prog);
        const tableIndex = loaded.manifest.programs.find((p) => p.name === prog)!.tableIndex;
        for (const m of Object.values(engines)) m.maps.byNameOrThrow(map).updateBytes(u32(slot), u32(tableIndex));
      }
      // The jumbo frame goes beyond the linear area: the kernel passes it as multi-buffer XDP.
      for (const frame of frames()) {
        let k;
        try {
          k = kernel.testRun(program, frame.bytes);
        } catch {
          // The kernel refuses the frame itself (e.g. shorter than Ethernet): so must we.
          for (const engine of ['wasm', 'interp'] as const) {
            assert.throws(() => workers[engine].runXdp(program, frame.bytes), /Ethernet|fit/, `${engine} accepts '${frame.name}'`);
          }
          continue;
        }
        const want = `${XDP_ACTION_NAME[k.retval] ?? k.retval} ${hex(k.data)}`;
        for (const engine of ['wasm', 'interp'] as const) {
          const r = workers[engine].runXdp(program, frame.bytes);
          assert.is(`${r.actionName} ${hex(r.packet)}`, want, `${engine} on '${frame.name}'${r.fault ? ` (fault: ${r.fault})` : ''}`);
        }
      }
      const pins = readdirSync(join(kernel.pinDir, 'maps'));
      for (const spec of loaded.manifest.maps) {
        if (spec.initialData) {
          // Global data (.data, .bss, .rodata): one value, what the programs left in it.
          // libbpf names it after the object and the section, pinned with '.' as '_'.
          const suffix = spec.name.replace(/\./g, '_');
          const pin = pins.filter((p) => p.endsWith(suffix));
          assert.is(pin.length, 1, `one kernel map for ${spec.name} among ${pins.join(', ')}`);
          const theirs = kernel.dump(pin[0]!).map((e) => hex(e.values[0]!));
          for (const engine of ['wasm', 'interp'] as const) {
            assert.equal(
              [...engines[engine].maps.byNameOrThrow(spec.name).entries()].map(([, v]) => hex(v)),
              theirs,
              `${engine}: global data ${spec.name}`,
            );
          }
          continue;
        }
        if (spec.type === MAP_TYPE.RINGBUF) {
          // Not dumpable: drained as a reader would, every record's bytes in order.
          const theirs = kernel.drainRingbuf(spec.name).map(hex);
          for (const engine of ['wasm', 'interp'] as const) {
            const ours: string[] = [];
            (engines[engine].maps.byNameOrThrow(spec.name) as RingbufMap).drain((r) => ours.push(hex(r)));
            assert.equal(ours, theirs, `${engine}: ring buffer ${spec.name}`);
          }
          continue;
        }
        // Map-in-map and prog-array slots hold kernel-assigned ids there and handles here:
        // compare which slots are set, not the numbers.
        const refs = [MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS, MAP_TYPE.PROG_ARRAY].includes(spec.type as 12);
        const render = (entries: Iterable<{ key: Uint8Array; values: Uint8Array[] }>): string[] =>
          [...entries]
            .map((e) => `${hex(e.key)}=${refs ? 'set' : isPerCpu(spec.type) ? sumPerCpu(e.values, spec.valueSize) : hex(e.values[0]!)}`)
            .sort();
        const theirs = render(kernel.dump(spec.name));
        for (const engine of ['wasm', 'interp'] as const) {
          const map = engines[engine].maps.byNameOrThrow(spec.name);
          const ours = render(
            [...map.entries()].map(([key, value]) => ({
              key,
              values: isPerCpu(spec.type) ? chunk(value, Math.ceil(spec.valueSize / 8) * 8) : [value],
            })),
          );
          assert.equal(ours, theirs, `${engine}: map ${spec.name}`);
        }
      }
    } finally {
      kernel.close();
    }
  });
}

function chunk(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

test.run();
