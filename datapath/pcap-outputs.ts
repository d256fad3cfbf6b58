// pcap mode's outputs: one capture per destination, so that the files say where each
// frame went. --out out.pcap holds what left through the receiving device (XDP_TX, and
// redirects back out of it); out.if<N>.pcap what a redirect sent out of device N;
// out.cpu<K>.pcap what a cpumap entry's program passed to the kernel's stack on CPU K
// (an entry without a program: every frame redirected to it). In capture order within
// each file (a frame by the index of the packet it came from).

import type { PcapDestination, PcapFrameOut } from './protocol.js';

export interface PcapOutput {
  path: string;
  /** Where these frames went, in words. */
  what: string;
  frames: Uint8Array[];
}

/** `out.pcap` → `out.<tag>.pcap` (or `<out>.<tag>.pcap` without the extension). */
export function outputPath(out: string, tag: string): string {
  return out.endsWith('.pcap') ? `${out.slice(0, -'.pcap'.length)}.${tag}.pcap` : `${out}.${tag}.pcap`;
}

/**
 * The frames grouped by destination: the receiving device first (always, even empty, as
 * --out has always been written), then other devices by ifindex, then CPUs.
 */
export function pcapOutputs(frames: readonly PcapFrameOut[], ingress: number, out = 'out.pcap'): PcapOutput[] {
  const sorted = [...frames].sort((a, b) => a.index - b.index); // stable: broadcast copies keep their order
  const key = (to: PcapDestination): string => ('device' in to ? (to.device === ingress ? '' : `if${to.device}`) : `cpu${to.cpu}`);
  const groups = new Map<string, PcapOutput>();
  groups.set('', { path: out, what: `out of the receiving device (ifindex ${ingress})`, frames: [] });
  for (const f of sorted) {
    const k = key(f.to);
    let g = groups.get(k);
    if (!g) {
      const what = 'device' in f.to ? `out of ifindex ${f.to.device}` : `to the kernel's stack on CPU ${f.to.cpu} (cpumap)`;
      g = { path: outputPath(out, k), what, frames: [] };
      groups.set(k, g);
    }
    g.frames.push(f.data);
  }
  const order = (k: string): [number, number] =>
    k === '' ? [0, 0] : k.startsWith('if') ? [1, Number(k.slice(2))] : [2, Number(k.slice(3))];
  return [...groups.entries()]
    .sort(([a], [b]) => {
      const [x, y] = [order(a), order(b)];
      return x[0] - y[0] || x[1] - y[1];
    })
    .map(([, g]) => g);
}
