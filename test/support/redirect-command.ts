// The command frames of test/fixtures/redirect/redirect_maps.c: Ethernet, an option-less
// IPv4 header (protocol 253, for experiments, 10.9.0.1 → 10.9.0.2), then `struct command`
// (at byte 34) and a number in the last byte to tell frames apart. The second programs
// stamp what their context said into the frame; `stamped` derives those bytes by hand.

export const COMMAND_FRAME_BYTES = 128;
export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
/** redirect_through's `sel`: which map. */
export const SEL = { cpumap: 0, devmap: 1, devmapHash: 2, xskmap: 3, lastCallDecides: 4 } as const;
export const BPF_F_BROADCAST = 8n;
export const BPF_F_EXCLUDE_INGRESS = 16n;

export interface Command {
  n: number;
  sel: number;
  key: number;
  flags?: bigint;
  /** What the (first) second program returns. */
  verdict: number;
  /** A cpumap program's XDP_REDIRECT: through map sel2, key key2, leaving `then` as the next verdict. */
  sel2?: number;
  key2?: number;
  then?: number;
  /** ...and the redirect for the next cpumap program (sel3, key3 move into sel2, key2). */
  sel3?: number;
  key3?: number;
  /** Nonzero: the first program reserves 4 bytes of metadata holding it. */
  meta?: number;
  /** Second programs stamp what they saw of metadata and headroom (`View`). */
  probe?: boolean;
}

/** What a second program saw: metadata length and first word, the headroom adjust_head allows. */
export interface View {
  metaLen: number;
  metaWord: number;
  room: number;
}

const OFFSET = {
  sel: 34,
  key: 38,
  flags: 42,
  verdict: 50,
  ingress: 54,
  egress: 58,
  rxQueue: 62,
  sel2: 66,
  key2: 70,
  then: 74,
  sel3: 78,
  key3: 82,
  meta: 86,
  probe: 90,
  dev: 94,
  cpu: 106,
};

export function commandFrame(c: Command): Uint8Array {
  const f = new Uint8Array(COMMAND_FRAME_BYTES);
  const dv = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 0x10, 2, 0, 0, 0, 0, 0x11, 0x08, 0x00]);
  // Its checksum does not matter here.
  f.set([0x45, 0, 0, COMMAND_FRAME_BYTES - 14, 0, 0, 0, 0, 64, 253, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2], 14);
  dv.setUint32(OFFSET.sel, c.sel, true);
  dv.setUint32(OFFSET.key, c.key, true);
  dv.setBigUint64(OFFSET.flags, c.flags ?? 0n, true);
  dv.setUint32(OFFSET.verdict, c.verdict, true);
  dv.setUint32(OFFSET.sel2, c.sel2 ?? 0, true);
  dv.setUint32(OFFSET.key2, c.key2 ?? 0, true);
  dv.setUint32(OFFSET.then, c.then ?? 0, true);
  dv.setUint32(OFFSET.sel3, c.sel3 ?? 0, true);
  dv.setUint32(OFFSET.key3, c.key3 ?? 0, true);
  dv.setUint32(OFFSET.meta, c.meta ?? 0, true);
  dv.setUint32(OFFSET.probe, c.probe ? 1 : 0, true);
  f[COMMAND_FRAME_BYTES - 1] = c.n;
  return f;
}

/**
 * The frame as second programs leave it: `ingress` and `rxQueue` (both programs), `egress`
 * (a devmap program); `redirected` for a cpumap program that redirected (`then` into the
 * verdict, sel3/key3 into sel2/key2); `dev` / `cpu`, what a devmap / cpumap program saw of
 * metadata and headroom (commands with `probe`).
 */
export function stamped(
  frame: Uint8Array,
  s: { ingress?: number; egress?: number; rxQueue?: number; redirected?: boolean; dev?: View; cpu?: View },
): Uint8Array {
  const c = frame.slice();
  const dv = new DataView(c.buffer);
  if (s.redirected) {
    dv.setUint32(OFFSET.verdict, dv.getUint32(OFFSET.then, true), true);
    dv.setUint32(OFFSET.sel2, dv.getUint32(OFFSET.sel3, true), true);
    dv.setUint32(OFFSET.key2, dv.getUint32(OFFSET.key3, true), true);
  }
  if (s.ingress !== undefined) dv.setUint32(OFFSET.ingress, s.ingress, true);
  if (s.egress !== undefined) dv.setUint32(OFFSET.egress, s.egress, true);
  if (s.rxQueue !== undefined) dv.setUint32(OFFSET.rxQueue, s.rxQueue, true);
  for (const [at, v] of [
    [OFFSET.dev, s.dev],
    [OFFSET.cpu, s.cpu],
  ] as const) {
    if (!v) continue;
    dv.setUint32(at, v.metaLen, true);
    dv.setUint32(at + 4, v.metaWord, true);
    dv.setUint32(at + 8, v.room, true);
  }
  return c;
}
