// `bpf2wasm run --mode pcap`: a capture through the live runner's workers (two of them,
// packets split between them) must transmit exactly what the reference interpreter says
// the program transmits, in capture order — for xdp_tx and for the example LB provisioned
// through --katran-config; and a program that redirects, checked against hand-derived output.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { readPcap, writePcap } from '../../packets/pcap.js';
import { UserspaceKatranMaps } from '../../katran/maps/userspace-maps.js';
import { applyKatranConfig, parseKatranConfig } from '../../katran/config.js';
import { XDP_ACTION } from '../../runtime/xdp.js';
import { BPF2WASM } from '../../examples/topology/topology.js';
import { corpus } from '../../packets/corpus.js';
import { examplePath } from '../support/examples.js';
import { compileBpf } from '../support/clang.js';
import { packageRoot } from '../../core/package-root.js';

const work = mkdtempSync(join(tmpdir(), 'bpf2wasm-live-pcap-'));
const frames = corpus()
  .map((f) => f.bytes)
  .filter((b) => b.length >= 14);
const input = join(work, 'in.pcap');
writeFileSync(input, writePcap(frames.map((data) => ({ timestampNs: 0n, originalLength: data.length, data }))));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What the interpreter transmits (TX or REDIRECT), in order. */
function expected(object: string, provision?: (m: BpfMachine) => void): string[] {
  const machine = BpfMachine.create(loadWasm(compileObject(loadObject(new Uint8Array(readFileSync(object)), object)).wasm, object));
  provision?.(machine);
  const worker = machine.worker(0, { engine: 'interp' });
  const program = machine.programs[0]!.name;
  // A result's packet is a view valid until the next run: turn it into hex at once.
  return frames.flatMap((f) => {
    const r = worker.runXdp(program, f);
    return r.action === XDP_ACTION.TX || r.action === XDP_ACTION.REDIRECT ? [hex(r.packet)] : [];
  });
}

function runPcap(object: string, extra: string[] = []): string[] {
  const out = join(work, 'out.pcap');
  const r = spawnSync(
    process.execPath,
    [BPF2WASM, 'run', object, '--mode', 'pcap', '--pcap', input, '--out', out, '--queues', '2', '--stats-interval', '0', ...extra],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^total: \d+ packets/m);
  return readPcap(new Uint8Array(readFileSync(out)), out).map((p) => hex(p.data));
}

test('xdp_tx: two workers transmit what the interpreter transmits', () => {
  const object = examplePath('xdp_tx');
  const want = expected(object);
  assert.ok(want.length > 10);
  assert.equal(runPcap(object), want);
});

test('example LB with --katran-config: same encapsulated packets as the interpreter', () => {
  const object = examplePath('xdp_lb');
  const config = join(work, 'lb.json');
  writeFileSync(
    config,
    JSON.stringify({
      mac: '02:00:00:00:00:99',
      vips: [
        { address: '10.200.200.1', port: 80, protocol: 'tcp', reals: [{ address: '10.0.0.1' }, { address: '10.0.0.2', weight: 2 }] },
        { address: '10.200.200.1', port: 53, protocol: 'udp', reals: [{ address: 'fc00::3' }] },
      ],
    }),
  );
  const want = expected(object, (m) => {
    applyKatranConfig(new UserspaceKatranMaps(m.maps), parseKatranConfig(readFileSync(config, 'utf8'), config), {
      forwardingCores: [0, 1],
      lruSize: 2000,
    });
  });
  assert.ok(want.length >= 3, `the corpus reaches the VIPs (${want.length} packets transmitted)`);
  assert.equal(runPcap(object, ['--katran', '--katran-config', config, '--lru-size', '2000']), want);
});

// Hand-derived: redirect_devmap redirects every IPv4 frame, unchanged, through devmap slot
// 0 and passes everything else. With the slot set, the output is the capture's IPv4
// frames in capture order; not one may go missing for being a redirect rather than a TX.
test('redirect_devmap: every redirected frame is written, in order', () => {
  const object = compileBpf(join(packageRoot, 'test', 'fixtures', 'wasm', 'redirect_devmap.c'));
  const ipv4 = frames.filter((f) => f[12] === 0x08 && f[13] === 0x00).map(hex);
  assert.ok(ipv4.length > 10 && ipv4.length < frames.length, 'the capture mixes IPv4 with other frames');
  assert.equal(runPcap(object, ['--update', 'ports=00000000:01000000']), ipv4);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
