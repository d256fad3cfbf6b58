// The example objects (examples/*.bpf.c) through loadObject + compileObject: the manifest
// must describe exactly the maps and programs the C sources declare. The expected specs
// below are written out by hand from those sources (sizes counted from the structs, type
// and flag numbers from linux/bpf.h), not taken from the loader. Where the kernel is
// available, the same objects are loaded with bpftool and the kernel's own maps, program
// names and initial contents are compared with the manifest.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Manifest, ManifestMap } from '../../core/manifest.js';
import { compileObject } from '../../compiler/compile.js';
import { decode } from '../../core/isa.js';
import { MAP_TYPE_NAME } from '../../core/map-types.js';
import { loadObject } from '../../compiler/object.js';
import { kernelLoadMissing, kernelMaps } from '../support/bpffs.js';
import { exampleBytes, exampleNames, examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';

// linux/bpf.h numbers, spelled out so the test does not share constants with the loader.
const HASH = 1,
  ARRAY = 2,
  PERCPU_ARRAY = 6,
  LRU_HASH = 9,
  LPM_TRIE = 11,
  ARRAY_OF_MAPS = 12,
  HASH_OF_MAPS = 13;
const NO_PREALLOC = 0x1,
  NO_COMMON_LRU = 0x2,
  RDONLY_PROG = 0x80,
  MMAPABLE = 0x400;

interface Shape {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}
interface ExpectedMap extends Shape {
  name: string;
  section: string;
  inner?: Shape;
  initialSlots?: { index: number; target: string }[];
  initialData?: number[];
  /** Field layout of key / value as `name@offset:size`, when BTF describes a struct. */
  keyFields?: string[];
  valueFields?: string[];
}
interface Expected {
  maps: ExpectedMap[];
  /** [program name, ELF section] */
  programs: [string, string][];
  /** Subprogram from .text that every program must carry. */
  shared?: string;
  /** libbpf 1.x refuses the object, so there is no kernel view to compare with. */
  notInKernel?: string;
}

const shape = (type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0): Shape => ({
  type,
  keySize,
  valueSize,
  maxEntries,
  flags,
});
const btfMap = (name: string, s: Shape, extra: Partial<ExpectedMap> = {}): ExpectedMap => ({ name, section: '.maps', ...s, ...extra });
// Global data: one-entry arrays keyed by u32 whose value is the whole section; libbpf makes
// them mmapable, and read-only for programs when .rodata.
const globalData = (section: '.data' | '.rodata' | '.bss', bytes: number[]): ExpectedMap => ({
  name: section,
  section,
  type: ARRAY,
  keySize: 4,
  valueSize: bytes.length,
  maxEntries: 1,
  flags: MMAPABLE | (section === '.rodata' ? RDONLY_PROG : 0),
  initialData: bytes,
});

const FLOW_KEY = ['src@0:4', 'dst@4:4', 'sport@8:2', 'dport@10:2', 'proto@12:1', 'pad@13:3'];
const BACKEND = ['addr@0:4', 'port@4:2', 'flags@6:2'];
const COUNTERS = ['packets@0:8', 'bytes@8:8'];

const EXPECTED: Record<string, Expected> = {
  xdp_pass: { maps: [], programs: [['xdp_pass', 'xdp']] },
  xdp_drop: { maps: [], programs: [['xdp_drop', 'xdp']] },
  xdp_tx: { maps: [], programs: [['xdp_tx', 'xdp']] },
  xdp_counter: {
    maps: [
      btfMap('proto_stats', shape(PERCPU_ARRAY, 4, 16, 5), { valueFields: COUNTERS }),
      globalData('.bss', [0, 0, 0, 0, 0, 0, 0, 0]), // __u64 total_packets = 0
    ],
    programs: [['xdp_counter', 'xdp']],
  },
  xdp_acl: {
    maps: [
      btfMap('acl_v4', shape(LPM_TRIE, 8, 4, 1024, NO_PREALLOC), { keyFields: ['prefixlen@0:4', 'addr@4:4'] }),
      btfMap('acl_v6', shape(LPM_TRIE, 20, 4, 256, NO_PREALLOC), { keyFields: ['prefixlen@0:4', 'addr@4:16'] }),
      btfMap('acl_drops', shape(ARRAY, 4, 8, 2)),
    ],
    programs: [['xdp_acl', 'xdp']],
  },
  xdp_decap: {
    maps: [
      btfMap('decap_dst_v4', shape(HASH, 4, 4, 64)), // __u32 outer daddr -> __u32
      // struct in6_addr is one 16-byte union; BTF shows it as that single member.
      btfMap('decap_dst_v6', shape(HASH, 16, 4, 64), { keyFields: ['in6_u@0:16'] }),
      btfMap('decap_stats', shape(PERCPU_ARRAY, 4, 16, 4), { valueFields: COUNTERS }),
    ],
    programs: [['xdp_decap', 'xdp']],
  },
  // katran's layouts, sizes from the source: 16 VIPs, 64 reals, rings of 65537 slots each.
  xdp_lb: {
    maps: [
      // struct vip_definition { u8 addr[16]; be16 port; u8 proto; u8 pad; } -> vip_meta { flags, vip_num }
      btfMap('vip_map', shape(HASH, 20, 8, 16), {
        keyFields: ['addr@0:16', 'port@16:2', 'proto@18:1', 'pad@19:1'],
        valueFields: ['flags@0:4', 'vip_num@4:4'],
      }),
      btfMap('reals', shape(ARRAY, 4, 20, 64), { valueFields: ['addr@0:16', 'flags@16:1', 'pad@17:3'] }),
      btfMap('ch_rings', shape(ARRAY, 4, 4, 16 * 65537)),
      // Per-CPU LRUs: struct flow_key (40 bytes) -> struct real_pos_lru (16), 1000 entries.
      btfMap('lru_mapping', shape(ARRAY_OF_MAPS, 4, 4, 128), { inner: shape(LRU_HASH, 40, 16, 1000) }),
      btfMap('fallback_cache', shape(LRU_HASH, 40, 16, 1000)),
      btfMap('ctl_array', shape(ARRAY, 4, 8, 16), { valueFields: ['mac@0:8'] }),
      btfMap('stats', shape(PERCPU_ARRAY, 4, 16, 32), { valueFields: ['v1@0:8', 'v2@8:8'] }),
      btfMap('reals_stats', shape(PERCPU_ARRAY, 4, 16, 64), { valueFields: ['v1@0:8', 'v2@8:8'] }),
      // Source routing: { u32 prefixlen; be32 addr } / { u32 prefixlen; u8 addr[16] } -> u32 real index.
      btfMap('lpm_src_v4', shape(LPM_TRIE, 8, 4, 256, NO_PREALLOC), { keyFields: ['prefixlen@0:4', 'addr@4:4'] }),
      btfMap('lpm_src_v6', shape(LPM_TRIE, 20, 4, 256, NO_PREALLOC), { keyFields: ['prefixlen@0:4', 'addr@4:16'] }),
      // Inline decap: struct address { u8 addr[16]; } -> u32 flags, one per VIP slot.
      btfMap('decap_dst', shape(HASH, 16, 4, 16), { keyFields: ['addr@0:16'] }),
    ],
    programs: [['xdp_lb', 'xdp']],
  },
  maps_zoo: {
    maps: [
      btfMap('flows', shape(HASH, 16, 4, 512), { keyFields: FLOW_KEY }),
      btfMap('backends', shape(ARRAY, 4, 8, 16), { valueFields: BACKEND }),
      btfMap('cpu_stats', shape(PERCPU_ARRAY, 4, 16, 4), { valueFields: COUNTERS }),
      btfMap('conn_cache', shape(LRU_HASH, 16, 8, 1000, NO_COMMON_LRU), { keyFields: FLOW_KEY, valueFields: BACKEND }),
      btfMap('prefixes', shape(LPM_TRIE, 20, 4, 100, NO_PREALLOC), { keyFields: ['prefixlen@0:4', 'addr@4:16'] }),
      btfMap('inner_a', shape(ARRAY, 4, 8, 8)),
      // Outer maps hold map ids: 4-byte values whatever the inner map is.
      btfMap('outer_array', shape(ARRAY_OF_MAPS, 4, 4, 4), {
        inner: shape(ARRAY, 4, 8, 8),
        initialSlots: [{ index: 1, target: 'inner_a' }],
      }),
      btfMap('outer_lru', shape(ARRAY_OF_MAPS, 4, 4, 16), { inner: shape(LRU_HASH, 16, 8, 64) }),
      btfMap('outer_hash', shape(HASH_OF_MAPS, 4, 4, 32, NO_PREALLOC), { inner: shape(HASH, 4, 1, 64, NO_PREALLOC) }),
      globalData('.data', [0x67, 0x45, 0x23, 0x01]), // int data_seed = 0x1234567 (little endian)
      globalData('.rodata', [0x90, 0x1f, 0x00, 0x00]), // const volatile __u32 cfg_port = 8080
      globalData('.bss', [0, 0, 0, 0, 0, 0, 0, 0]), // __u64 bss_hits
    ],
    programs: [
      ['zoo_main', 'xdp'],
      ['zoo_second', 'xdp.frags'],
    ],
    shared: 'pick_backend',
  },
  legacy_maps: {
    maps: [
      { name: 'queue_packets', section: 'maps', ...shape(HASH, 4, 8, 64) },
      { name: 'drop_switch', section: 'maps', ...shape(ARRAY, 4, 4, 1) },
    ],
    programs: [['legacy_count', 'xdp']],
    notInKernel: 'libbpf 1.x refuses legacy "maps" sections',
  },
};

const manifests = new Map<string, Manifest>();
function manifestOf(name: string): Manifest {
  let m = manifests.get(name);
  if (!m) {
    m = compileObject(loadObject(exampleBytes(name), examplePath(name))).manifest;
    manifests.set(name, m);
  }
  return m;
}

const shapeOf = (m: Shape): Shape => ({
  type: m.type,
  keySize: m.keySize,
  valueSize: m.valueSize,
  maxEntries: m.maxEntries,
  flags: m.flags,
});
const fieldsOf = (layout: ManifestMap['key']): string[] | undefined =>
  layout?.fields.length ? layout.fields.map((f) => `${f.name}@${f.offset}:${f.size}`) : undefined;

function checkMap(example: string, want: ExpectedMap, got: ManifestMap | undefined): void {
  const what = `${example}: map ${want.name}`;
  assert.ok(got, `${what} is in the manifest`);
  assert.equal(shapeOf(got!), shapeOf(want), `${what} type/key/value/max_entries/flags`);
  assert.is(got!.section, want.section, `${what} section`);
  assert.equal(got!.inner && shapeOf(got!.inner), want.inner, `${what} inner template`);
  assert.equal(got!.initialSlots, want.initialSlots, `${what} initial slots`);
  const data = got!.initialData === undefined ? undefined : [...Buffer.from(got!.initialData, 'base64')];
  assert.equal(data, want.initialData, `${what} initial bytes`);
  if (want.keyFields) assert.equal(fieldsOf(got!.key), want.keyFields, `${what} key layout`);
  if (want.valueFields) assert.equal(fieldsOf(got!.value), want.valueFields, `${what} value layout`);
}

test('every example loads and compiles', () => {
  for (const name of exampleNames()) {
    const manifest = manifestOf(name);
    assert.ok(manifest.programs.length > 0, `${name} has programs`);
    assert.is(manifest.license, 'GPL', `${name} license`);
  }
  // The expectations below name real examples (a renamed source must not silently skip them).
  for (const name of Object.keys(EXPECTED)) assert.ok(exampleNames().includes(name), `examples/${name}.bpf.c exists`);
});

for (const [example, want] of Object.entries(EXPECTED)) {
  test(`${example}: maps and programs as the C source declares them`, () => {
    const manifest = manifestOf(example);
    assert.equal(manifest.maps.map((m) => m.name).sort(), want.maps.map((m) => m.name).sort(), `${example} map names`);
    for (const m of want.maps)
      checkMap(
        example,
        m,
        manifest.maps.find((g) => g.name === m.name),
      );
    assert.equal(
      manifest.programs.map((p) => [p.name, p.section]),
      want.programs,
      `${example} programs`,
    );
    for (const p of manifest.programs) assert.is(p.funcs[0]?.name, p.name, `${example}: ${p.name} starts with its entry`);
  });
}

test('maps_zoo: the .text subprogram is appended to both programs, identically, and called', () => {
  const shared = EXPECTED.maps_zoo!.shared!;
  const copies = manifestOf('maps_zoo').programs.map((p) => {
    const code = Buffer.from(p.code, 'base64');
    const func = p.funcs.find((f) => f.name === shared);
    assert.ok(func, `${p.name} carries ${shared}: ${JSON.stringify(p.funcs)}`);
    assert.ok(func!.start > 0, `${p.name}: ${shared} comes after the entry`);
    // A local call (src 1) in the entry function must land on the appended copy.
    const insns = decode(new Uint8Array(code));
    const calls = insns.filter((i) => i.pc < func!.start && i.opcode === 0x85 && i.src === 1);
    assert.ok(calls.length > 0 && calls.every((i) => i.pc + 1 + i.imm === func!.start), `${p.name} calls ${shared}`);
    const next = p.funcs.filter((f) => f.start > func!.start).map((f) => f.start);
    return code.subarray(func!.start * 8, (next.length ? Math.min(...next) : code.length / 8) * 8);
  });
  assert.is(copies.length, 2);
  const [first, second] = copies as [Buffer, Buffer];
  // Same subprogram, same relocations (backends map, .rodata) in both programs.
  assert.ok(first.length > 0 && first.equals(second), `${shared} copies are byte-identical`);
});

// ---- the kernel's view ------------------------------------------------------------------

/** Name under which `bpftool ... pinmaps` pins a map: libbpf names global data maps
 *  `<first 8 chars of the object name><section>`, and pinning turns dots into underscores. */
function pinName(object: string, map: string): string {
  if (!map.startsWith('.')) return map;
  return `${basename(object, '.o').slice(0, 8)}${map}`.replaceAll('.', '_');
}

/** Load `object` with bpftool into a fresh bpffs directory, hand it to `use`, then remove it. */
function withKernelObject<T>(object: string, use: (dir: string) => T): T {
  if (spawnSync('findmnt', ['-t', 'bpf', '/sys/fs/bpf']).status !== 0) execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  const dir = `/sys/fs/bpf/bpf2wasm-examples-${process.pid}-${Date.now()}`;
  try {
    execFileSync('bpftool', ['prog', 'loadall', object, dir, 'pinmaps', `${dir}/maps`], { stdio: 'pipe' });
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function bpftoolJson<T>(...args: string[]): T {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' })) as T;
}

for (const [example, want] of Object.entries(EXPECTED)) {
  if (want.notInKernel) continue;
  test(`${example}: the kernel creates the same maps and programs`, () => {
    const unavailable = kernelLoadMissing();
    if (unavailable) return void skip(`${example} maps vs kernel`, unavailable);
    const object = examplePath(example);
    const manifest = manifestOf(example);
    const kernel = kernelMaps(
      object,
      manifest.maps.map((m) => pinName(object, m.name)),
    );
    for (const m of manifest.maps) {
      const k = kernel.get(pinName(object, m.name))!;
      const what = `${example}: map ${m.name} (kernel ${k.name})`;
      assert.equal(
        [MAP_TYPE_NAME[m.type], m.keySize, m.valueSize, m.maxEntries, m.flags],
        [k.type, k.bytes_key, k.bytes_value, k.max_entries, k.flags],
        `${what}: type, key, value, max_entries, flags`,
      );
    }
    const pinned = withKernelObject(object, (dir) =>
      readdirSync(dir)
        .filter((f) => f !== 'maps')
        .sort(),
    );
    assert.equal(pinned, manifest.programs.map((p) => p.name).sort(), `${example}: programs the kernel loaded`);
  });
}

test('maps_zoo: the kernel starts with the same global data and the same initial inner map', () => {
  const unavailable = kernelLoadMissing();
  if (unavailable) return void skip('maps_zoo initial contents vs kernel', unavailable);
  const object = examplePath('maps_zoo');
  const manifest = manifestOf('maps_zoo');
  type Lookup = { value: string[] } | null;
  const bytesOf = (l: Lookup): number[] | undefined => l?.value.map((h) => parseInt(h, 16));
  withKernelObject(object, (dir) => {
    // A missing key prints `null` and exits non-zero.
    const lookup = (map: string, key: number[]): Lookup => {
      const args = ['-j', 'map', 'lookup', 'pinned', `${dir}/maps/${pinName(object, map)}`, 'key', ...key.map(String)];
      const r = spawnSync('bpftool', args, { encoding: 'utf8' });
      if (r.status !== 0 && r.stdout.trim() !== 'null') throw new Error(`bpftool ${args.join(' ')}: ${r.stderr || r.stdout}`);
      return JSON.parse(r.stdout) as Lookup;
    };
    for (const m of manifest.maps.filter((x) => x.initialData !== undefined)) {
      assert.equal(bytesOf(lookup(m.name, [0, 0, 0, 0])), [...Buffer.from(m.initialData!, 'base64')], `${m.name} initial bytes`);
    }
    // An array-of-maps slot reads back as the inner map's id (u32, little endian).
    const outer = manifest.maps.find((x) => x.name === 'outer_array')!;
    const innerId = bpftoolJson<{ id: number }>('map', 'show', 'pinned', `${dir}/maps/inner_a`).id;
    for (let slot = 0; slot < outer.maxEntries; slot++) {
      const target = outer.initialSlots?.find((s) => s.index === slot)?.target;
      const id = bytesOf(lookup('outer_array', [slot, 0, 0, 0]));
      const asId = id && id[0]! + (id[1]! << 8) + (id[2]! << 16) + id[3]! * 2 ** 24;
      assert.is(asId ?? null, target === 'inner_a' ? innerId : null, `outer_array slot ${slot}`);
    }
  });
});

test.run();
