// The two-namespace topology of the AF_XDP datapath tests: a generator namespace and a
// device-under-test namespace, made for the test and removed by it, joined by a veth pair
// g0 (generator side) – d0 (DUT side).

import { spawnSync } from 'node:child_process';

/** Runs a command, throwing its stderr when it fails; its stdout. */
export function sh(...command: string[]): string {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * Makes namespaces `gen` and `dut` (IPv6 off: no autoconfiguration chatter on the wire, the
 * generator is the only sender; `loopback` brings lo up, for a gRPC server on 127.0.0.1) and
 * the veth pair g0 – d0 between them, up, with GRO on (it gives each veth end NAPI, which
 * native XDP on veth needs to receive). The caller removes both with removeNamespaces,
 * also when this throws. Returns the two ends' MAC addresses.
 */
export function vethPairInNamespaces(gen: string, dut: string, opts: { loopback?: boolean } = {}): { genMac: string; dutMac: string } {
  for (const ns of [gen, dut]) {
    sh('ip', 'netns', 'add', ns);
    if (opts.loopback) sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  }
  sh('ip', 'link', 'add', 'g0', 'netns', gen, 'type', 'veth', 'peer', 'name', 'd0', 'netns', dut);
  sh('ip', '-n', gen, 'link', 'set', 'g0', 'up');
  sh('ip', '-n', dut, 'link', 'set', 'd0', 'up');
  sh('ip', 'netns', 'exec', gen, 'ethtool', '-K', 'g0', 'gro', 'on');
  sh('ip', 'netns', 'exec', dut, 'ethtool', '-K', 'd0', 'gro', 'on');
  const mac = (ns: string, dev: string): string => sh('ip', 'netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/address`).trim();
  return { genMac: mac(gen, 'g0'), dutMac: mac(dut, 'd0') };
}

/** Removes the namespaces (those that exist; never throws). */
export function removeNamespaces(...names: string[]): void {
  for (const ns of names) spawnSync('ip', ['netns', 'del', ns]);
}
