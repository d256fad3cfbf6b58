// The declarative katran config: strict validation naming the JSON path, applied the same
// as the equivalent KatranLb calls; and, with katran's object, `test-run --katran-config`
// sends KATRAN.md's worked-example flow to the real it predicts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyKatranConfig, parseKatranConfig } from '../../katran/config.js';
import { KatranLb, ModifyAction } from '../../katran/control-plane.js';
import { KatranError } from '../../katran/errors.js';
import { MemoryMaps } from '../../katran/maps/memory-maps.js';
import { writePcap } from '../../packets/pcap.js';
import { ethernet, ipv4, tcp } from '../../packets/corpus.js';
import { scratchDir } from '../support/clang.js';
import { skip } from '../support/skip.js';
import { examplePath } from '../support/examples.js';
import { BPF2WASM_BIN } from '../../core/package-root.js';

const CONFIG = {
  mac: '00:00:de:ad:be:af',
  vips: [
    {
      address: '10.200.1.1',
      port: 80,
      protocol: 'tcp',
      reals: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }, { address: '10.0.0.3' }],
    },
    {
      address: 'fc00:1::1',
      port: 80,
      protocol: 'tcp',
      flags: ['NO_SPORT'],
      reals: [
        { address: 'fc00::1', weight: 2 },
        { address: 'fc00::2', flags: ['LOCAL_REAL'] },
      ],
    },
  ],
  quicMappings: [{ address: '10.0.0.1', id: 1022 }],
};

const dump = (maps: MemoryMaps, name: string): string[] =>
  maps
    .entries(name)
    .map(([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`)
    .sort();

test('a config file provisions exactly what the equivalent KatranLb calls do', () => {
  const viaFile = new MemoryMaps(2);
  applyKatranConfig(viaFile, parseKatranConfig(JSON.stringify(CONFIG), 'cfg.json'));
  const viaCalls = new MemoryMaps(2);
  const lb = new KatranLb(viaCalls, { defaultMac: '00:00:de:ad:be:af' });
  lb.init();
  const v4 = { address: '10.200.1.1', port: 80, proto: 6 };
  const v6 = { address: 'fc00:1::1', port: 80, proto: 6 };
  lb.addVip(v4, 0);
  lb.modifyRealsForVip(
    ModifyAction.ADD,
    ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((address) => ({ address, weight: 1, flags: 0 })),
    v4,
  );
  lb.addVip(v6, 1);
  lb.modifyRealsForVip(
    ModifyAction.ADD,
    [
      { address: 'fc00::1', weight: 2, flags: 0 },
      { address: 'fc00::2', weight: 1, flags: 2 },
    ],
    v6,
  );
  lb.modifyQuicRealsMapping(ModifyAction.ADD, [{ address: '10.0.0.1', id: 1022 }]);
  for (const map of ['vip_map', 'reals', 'ctl_array', 'server_id_map']) assert.equal(dump(viaFile, map), dump(viaCalls, map), map);
  assert.ok(dump(viaFile, 'vip_map').length === 2);
});

test('invalid configs are refused naming the JSON path, before any write', () => {
  const bad: [unknown, RegExp][] = [
    [{ ...CONFIG, extra: 1 }, /\$\.extra: unknown key/],
    [{ ...CONFIG, mac: 'zz' }, /\$\.mac: must be a MAC/],
    [{ ...CONFIG, vips: [{ address: '10.0.0.300', port: 80, protocol: 'tcp' }] }, /\$\.vips\[0\]\.address: '10\.0\.0\.300' is not/],
    [{ ...CONFIG, vips: [{ address: '10.0.0.1', port: 70000, protocol: 'tcp' }] }, /\$\.vips\[0\]\.port: must be an integer in 0\.\.65535/],
    [{ ...CONFIG, vips: [{ address: '10.0.0.1', port: 1, protocol: 'sctp' }] }, /\$\.vips\[0\]\.protocol/],
    [{ ...CONFIG, vips: [CONFIG.vips[0], CONFIG.vips[0]] }, /\$\.vips\[1\]: duplicate VIP/],
    [{ ...CONFIG, vips: [{ ...CONFIG.vips[0], flags: ['FAST'] }] }, /\$\.vips\[0\]\.flags\[0\]: unknown flag/],
    [{ ...CONFIG, vips: [{ ...CONFIG.vips[0], reals: [{ address: '10.0.0.1', weight: -1 }] }] }, /reals\[0\]\.weight/],
    [{ ...CONFIG, vips: [{ ...CONFIG.vips[0], reals: [{ address: '10.0.0.1', color: 'red' }] }] }, /reals\[0\]\.color: unknown key/],
    [{ ...CONFIG, katranSrcV4: 'fc00::1' }, /\$\.katranSrcV4: must be an IPv4 address/],
    [{ ...CONFIG, katranSrcV6: 'nope' }, /\$\.katranSrcV6: 'nope' is not an IPv4 or IPv6 address/],
  ];
  for (const [config, pattern] of bad) {
    const maps = new MemoryMaps(2);
    try {
      applyKatranConfig(maps, parseKatranConfig(JSON.stringify(config), 'cfg.json'));
      assert.unreachable(`accepted ${JSON.stringify(config)}`);
    } catch (e) {
      assert.instance(e, KatranError);
      assert.match((e as Error).message, pattern);
    }
    for (const map of ['vip_map', 'reals', 'ctl_array']) assert.equal(dump(maps, map), [], `${map} untouched`);
  }
  assert.throws(() => parseKatranConfig('{', 'cfg.json'), /cfg\.json: not valid JSON/);
});

test('test-run --katran-config on the example LB: the worked-example flow reaches the predicted real', () => {
  workedExample(examplePath('xdp_lb'), 'xdp_lb');
});

test('test-run --katran-config on katran: the worked-example flow reaches the predicted real', () => {
  const katran = process.env.KATRAN_BPF_OBJ;
  if (!katran) return void skip('katran test-run with a config', 'katran-object', "set KATRAN_BPF_OBJ to katran's balancer.bpf.o");
  workedExample(katran, 'balancer');
});

function workedExample(object: string, name: string): void {
  const dir = scratchDir();
  const cli = BPF2WASM_BIN;
  const cfg = join(dir, 'katran.json');
  const pcap = join(dir, 'flow.pcap');
  const wasm = join(dir, `${name}.wasm`);
  writeFileSync(cfg, JSON.stringify({ ...CONFIG, quicMappings: [] })); // the example LB has no QUIC
  const frame = ethernet(0x0800, ipv4({ src: [192, 168, 1, 1], dst: [10, 200, 1, 1], proto: 6 }, tcp(31337, 80, 0x02)));
  writeFileSync(pcap, writePcap([{ timestampNs: 0n, originalLength: frame.length, data: frame }]));
  assert.is(spawnSync(process.execPath, [cli, object, '-o', wasm, '-q']).status, 0);
  const r = spawnSync(process.execPath, [cli, 'test-run', wasm, '--pcap', pcap, '--json', '--katran-config', cfg], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { action: string; data: string };
  assert.is(out.action, 'XDP_TX');
  // KATRAN.md §3/§4: 192.168.1.1:31337 -> real 3 (10.0.0.3), outer source 172.16.104.123, MAC from ctl_array.
  assert.is(out.data.slice(0, 12), '0000deadbeaf');
  assert.is(out.data.slice(52, 60), 'ac10687b');
  assert.is(out.data.slice(60, 68), '0a000003');
}

test.run();
