// What the peer harness (bench/peer-harness/) runs: one program's relocated, linked
// instructions as our compiler sees them (core/model.ts Program.insns: `.text` callees
// appended, ld_imm64 map references as PSEUDO.MAP_IDX / MAP_IDX_VALUE), every map's shape
// and contents after the bench provisioned it, and the workload's packets with the verdict
// and output bytes our compiled module gives each on a first pass in order. The harness
// JIT-compiles the same instructions with another engine and must reproduce those
// verdicts and bytes before it is timed.
//
// Format, little-endian (bench/peer-harness/harness.c reads it):
//   "B2WPEER1"
//   u32 slot count, then the instruction slots (8 bytes each, ld_imm64 takes two)
//   u32 map count; per map: u32 type, key size, value size, max entries, flags, entry
//     count, then each entry's key and value bytes. Maps 0..n-1 are the object's maps in
//     its order (the MAP_IDX immediates); inner maps of map-in-maps follow, and a
//     map-in-map entry's value is the u32 index of its inner map in this list. Per-CPU
//     maps give CPU 0's value only (the harness runs one CPU).
//   u32 packet count; per packet: u32 length, bytes, u32 expected action, u32 output
//     length, output bytes (data .. data_end as the program left them).

import { writeFileSync } from 'node:fs';
import { encode } from '../core/isa.js';
import type { BpfObject } from '../core/model.js';
import { MAP_TYPE } from '../core/map-types.js';
import type { BpfMachine } from '../runtime/machine.js';
import type { AnyMap } from '../runtime/maps/index.js';
import type { ArrayMap } from '../runtime/maps/array.js';

const MAGIC = 'B2WPEER1';
const MAP_IN_MAP: readonly number[] = [MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS];
const PER_CPU: readonly number[] = [MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_PERCPU_HASH];

class Writer {
  private readonly parts: Uint8Array[] = [];
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.parts.push(b);
  }
  bytes(b: Uint8Array): void {
    this.parts.push(b.slice());
  }
  done(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

/**
 * An array's slots whose value (CPU 0's) is not all zero, read from linear memory
 * directly: the harness's arrays start zeroed, and katran's ring has 33 million slots.
 */
function* nonZeroSlots(map: ArrayMap): Iterable<[Uint8Array, Uint8Array]> {
  const u8 = map.v.u8;
  for (let i = 0; i < map.maxEntries; i++) {
    const at = map.at(i, 0);
    for (let b = at; b < at + map.valueSize; b++)
      if (u8[b] !== 0) {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, i, true);
        yield [key, u8.slice(at, at + map.valueSize)];
        break;
      }
  }
}

export interface PeerPacket {
  input: Uint8Array;
  action: number;
  output: Uint8Array;
}

/**
 * The first pass of `packets` through `machine` (fresh, provisioned) with the compiled
 * module, one runXdp each in order: the verdicts and bytes a peer must reproduce.
 */
export function firstPass(machine: BpfMachine, program: string, packets: readonly Uint8Array[]): PeerPacket[] {
  const w = machine.worker(0, { engine: 'wasm', budget: 0, clock: () => process.hrtime.bigint() });
  return packets.map((input) => {
    const r = w.runXdp(program, input);
    return { input, action: r.action, output: r.packet.slice() };
  });
}

/** Writes the dump for `program` of `object`, its maps as `machine` holds them now, and `packets`. */
export function writePeerDump(path: string, object: BpfObject, program: string, machine: BpfMachine, packets: readonly PeerPacket[]): void {
  const prog = object.programs.find((p) => p.name === program);
  if (!prog) throw new Error(`${object.source}: no program ${program}`);
  const out = new Writer();
  out.bytes(new TextEncoder().encode(MAGIC));
  const image = encode(prog.insns);
  out.u32(image.length / 8);
  out.bytes(image);

  // The object's maps first (their index is the MAP_IDX immediate), inner maps appended as found.
  const list: AnyMap[] = object.maps.map((spec) => machine.maps.byNameOrThrow(spec.name));
  const innerIndex = new Map<number, number>();
  const body = new Writer();
  for (let i = 0; i < list.length; i++) {
    const map = list[i]!;
    const { type, flags } = map.spec;
    const entries: [Uint8Array, Uint8Array][] = [];
    for (const [key, value] of type === MAP_TYPE.ARRAY || type === MAP_TYPE.PERCPU_ARRAY ? nonZeroSlots(map as ArrayMap) : map.entries()) {
      if (MAP_IN_MAP.includes(type)) {
        const handle = new DataView(value.buffer, value.byteOffset).getUint32(0, true);
        let at = innerIndex.get(handle);
        if (at === undefined) {
          at = list.length;
          innerIndex.set(handle, at);
          list.push(machine.maps.get(handle)!);
        }
        const v = new Uint8Array(4);
        new DataView(v.buffer).setUint32(0, at, true);
        entries.push([key, v]);
      } else {
        entries.push([key, PER_CPU.includes(type) ? value.subarray(0, map.valueSize) : value]);
      }
    }
    body.u32(type);
    body.u32(map.keySize);
    body.u32(MAP_IN_MAP.includes(type) ? 4 : map.valueSize);
    body.u32(map.maxEntries);
    body.u32(flags ?? 0);
    body.u32(entries.length);
    for (const [k, v] of entries) {
      body.bytes(k);
      body.bytes(v);
    }
  }
  out.u32(list.length);
  out.bytes(body.done());

  out.u32(packets.length);
  for (const p of packets) {
    out.u32(p.input.length);
    out.bytes(p.input);
    out.u32(p.action);
    out.u32(p.output.length);
    out.bytes(p.output);
  }
  writeFileSync(path, out.done());
}
