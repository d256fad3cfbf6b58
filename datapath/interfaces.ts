// What the runtime needs to know about the host's interfaces, read from sysfs and
// os.networkInterfaces(): index <-> name, MAC address, and the addresses the host owns
// (the prefilter keeps traffic to them in the kernel).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';
import { UserError } from '../core/errors.js';

const SYS = '/sys/class/net';

export function interfaceExists(name: string): boolean {
  return /^[^/\s]{1,15}$/.test(name) && existsSync(`${SYS}/${name}`);
}

export function requireInterface(name: string): void {
  if (!interfaceExists(name))
    throw new UserError(`interface '${name}' does not exist (ip link shows the interfaces of this network namespace)`);
}

export function interfaceIndex(name: string): number {
  requireInterface(name);
  return Number(readFileSync(`${SYS}/${name}/ifindex`, 'utf8'));
}

export function interfaceName(index: number): string | undefined {
  for (const name of readdirSync(SYS)) {
    try {
      if (Number(readFileSync(`${SYS}/${name}/ifindex`, 'utf8')) === index) return name;
    } catch {
      // an interface that went away while we looked
    }
  }
  return undefined;
}

export function interfaceMac(name: string): Uint8Array {
  const text = readFileSync(`${SYS}/${name}/address`, 'utf8').trim();
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

/** RX queues the interface has (at least 1). */
export function rxQueueCount(name: string): number {
  try {
    return Math.max(1, readdirSync(`${SYS}/${name}/queues`).filter((q) => q.startsWith('rx-')).length);
  } catch {
    return 1;
  }
}

/** Every address configured on the host (all interfaces), as 4- or 16-byte arrays. */
export function hostAddresses(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) out.push(addressBytes(info.address.split('%')[0]!));
  }
  return out;
}

export function addressBytes(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const words = (s: string | undefined): number[] => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const left = words(head);
  const right = words(tail);
  const all = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
