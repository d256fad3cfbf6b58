// The bench's peer harness (bench/peer-harness/) runs the program it is given correctly
// before it times anything: under each peer JIT that is built here (LLVMBPF_DIR, UBPF_DIR),
// examples/xdp_decap decapsulates an IPIP frame to exactly the hand-built inner frame and
// passes a frame for another host untouched, as our compiled module does; and a dump whose
// expectation is wrong makes the harness fail, naming the packet.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../../compiler/object.js';
import { compileObject } from '../../compiler/compile.js';
import { loadWasm } from '../../runtime/program.js';
import { BpfMachine } from '../../runtime/machine.js';
import { applyUpdates } from '../../runtime/map-commands.js';
import { REAL, ethernet, ipv4, tcp } from '../../packets/corpus.js';
import { buildPeers, type Peer } from '../../bench/peers.js';
import { firstPass, writePeerDump, type PeerPacket } from '../../bench/peer-dump.js';
import { examplePath } from '../support/examples.js';
import { skip } from '../support/skip.js';

const XDP_PASS = 2;
const path = examplePath('xdp_decap');
const object = loadObject(new Uint8Array(readFileSync(path)), path);
const loaded = loadWasm(compileObject(object).wasm, path);
const provisioned = (): BpfMachine => {
  const m = BpfMachine.create(loaded);
  applyUpdates(m, ['decap_dst_v4=0a000002:01000000']);
  return m;
};
const inner = ipv4({ src: [192, 168, 7, 7], dst: [10, 200, 200, 1], proto: 6 }, tcp(40000, 80, 0x10, 16));
const ipip = ethernet(0x0800, ipv4({ src: [172, 16, 1, 2], dst: REAL, proto: 4 }, inner));
const elsewhere = ethernet(0x0800, ipv4({ src: [172, 16, 1, 2], dst: [10, 9, 9, 9], proto: 4 }, inner));

let built: Peer[] | undefined;
const peers = (): Peer[] => (built ??= buildPeers().peers);

/** Runs a peer's harness by itself on a dump of `packets`; its exit status and output. */
function runHarness(peer: Peer, packets: PeerPacket[]): { status: number | null; stdout: string; stderr: string } {
  const dump = join(mkdtempSync(join(tmpdir(), 'bpf2wasm-peer-test-')), 'decap.bin');
  writePeerDump(dump, object, 'xdp_decap', provisioned(), packets);
  return spawnSync(peer.binary, [dump, '1000'], { encoding: 'utf8' });
}

test('each peer decapsulates like our module, to the hand-built inner frame', () => {
  if (!process.env.LLVMBPF_DIR && !process.env.UBPF_DIR) return void skip('peer harness', 'peer-build', 'LLVMBPF_DIR or UBPF_DIR');
  const expected = firstPass(provisioned(), 'xdp_decap', [ipip, elsewhere]);
  // The expectations handed to the peer are right: the inner frame behind the outer Ethernet header, and the other frame as it was.
  assert.equal([...expected[0]!.output], [...ethernet(0x0800, inner)]);
  assert.equal(expected[1]!.action, XDP_PASS);
  assert.equal([...expected[1]!.output], [...elsewhere]);
  for (const peer of peers()) {
    const r = runHarness(peer, expected);
    assert.is(r.status, 0, `${peer.name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${peer.name}: 2 packets verified`));
  }
});

test('a peer whose output differs from the expectation fails, naming the packet', () => {
  if (!process.env.LLVMBPF_DIR && !process.env.UBPF_DIR) return void skip('peer harness', 'peer-build', 'LLVMBPF_DIR or UBPF_DIR');
  const [decap, pass] = firstPass(provisioned(), 'xdp_decap', [ipip, elsewhere]);
  const wrongByte = decap!.output.slice();
  wrongByte[wrongByte.length - 1]! ^= 0xff;
  for (const peer of peers()) {
    const r = runHarness(peer, [pass!, { ...decap!, output: wrongByte }]);
    assert.is(r.status, 1, `${peer.name}: ${r.stderr}`);
    assert.match(r.stderr, /packet 1: action \d+, expected \d+/);
    assert.match(r.stderr, /1 of 2 packets differ/);
    const wrongAction = runHarness(peer, [{ ...pass!, action: 1 }, decap!]);
    assert.is(wrongAction.status, 1);
    assert.match(wrongAction.stderr, /packet 0: action 2, expected 1/);
  }
});

test.run();
