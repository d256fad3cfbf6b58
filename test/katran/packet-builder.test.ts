// The pieces that read katran_tester's fixtures, checked without katran: our reading of
// katran's PacketBuilder against hand-derived bytes and independently verified checksums,
// and the fixture reader against a header written here in the same C++ dialect.
// (test/katran-fixtures.test.ts runs katran's real fixtures when a checkout is given.)

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PacketBuilder } from '../support/katran-packet-builder.js';
import { FixtureError, readKatranFixtures } from '../support/katran-fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** One's-complement sum folded to 16 bits: 0xffff over a region whose checksum is right. */
function foldedSum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

test('an Ethernet/IPv4/UDP packet, field by field', () => {
  const p = PacketBuilder.newPacket()
    .Eth('0x1', '0x2')
    .IPv4('192.168.1.1', '10.200.1.1')
    .UDP(31337, 80)
    .payload(text('katran test pkt'))
    .build();
  const expected = [
    '020000000000',
    '010000000000',
    '0800', // dst, src ("0xN": low byte first), IPv4
    '45',
    '00',
    '002b',
    '0001',
    '0000',
    '40',
    '11',
    'ad4f', // v4 ihl 5, tos, len 43, id 1, no frag, ttl 64, UDP, checksum
    'c0a80101',
    '0ac80101', // 192.168.1.1 -> 10.200.1.1
    '7a69',
    '0050',
    '0017',
    '97de', // 31337 -> 80, length 23, checksum
    hex(Uint8Array.from(text('katran test pkt'))),
  ].join('');
  assert.is(hex(p), expected);
});

test('transport and header checksums verify for IPv4 and IPv6, TCP, UDP and ICMP', () => {
  const payload = text('odd-length payload!');
  const cases = [
    {
      name: 'v4 tcp',
      p: PacketBuilder.newPacket().Eth().IPv4('10.1.2.3', '10.200.1.1', 17, 0x8c).TCP(1, 2, 7, 9, 100, 0x02).payload(payload).build(),
      v6: false,
      proto: 6,
    },
    {
      name: 'v4 udp',
      p: PacketBuilder.newPacket().Eth().IPv4('10.1.2.3', '10.200.1.1').UDP(53, 5353).payload(payload).build(),
      v6: false,
      proto: 17,
    },
    {
      name: 'v6 tcp',
      p: PacketBuilder.newPacket().Eth().IPv6('fc00:2::1', 'fc00:1::1', 3, 0x8c, 0x12345).TCP(31337, 80).payload(payload).build(),
      v6: true,
      proto: 6,
    },
    {
      name: 'v6 udp',
      p: PacketBuilder.newPacket().Eth().IPv6('fc00:2::1', 'fc00:1::1').UDP(31337, 443).payload(payload).build(),
      v6: true,
      proto: 17,
    },
    {
      name: 'v4 icmp echo',
      p: PacketBuilder.newPacket().Eth().IPv4('10.1.2.3', '10.200.1.1').ICMP(8, 0, 7, 9).build(),
      v6: false,
      proto: 1,
    },
  ];
  for (const c of cases) {
    const l3 = c.p.subarray(14);
    if (c.v6) {
      assert.is(l3[0]! >> 4, 6, c.name);
      assert.is(l3[6], c.proto, `${c.name}: next header`);
      const l4 = l3.subarray(40);
      assert.is((l3[4]! << 8) | l3[5]!, l4.length, `${c.name}: payload length`);
      const pseudo = Uint8Array.from([...l3.subarray(8, 40), 0, 0, l4.length >> 8, l4.length & 0xff, 0, 0, 0, c.proto]);
      assert.is(foldedSum(Uint8Array.from([...pseudo, ...l4])), 0xffff, `${c.name}: transport checksum`);
    } else {
      const ihl = (l3[0]! & 0xf) * 4;
      assert.is(foldedSum(l3.subarray(0, ihl)), 0xffff, `${c.name}: header checksum`);
      assert.is(l3[9], c.proto, `${c.name}: protocol`);
      const l4 = l3.subarray(ihl);
      const pseudo = c.proto === 1 ? [] : [...l3.subarray(12, 20), 0, c.proto, l4.length >> 8, l4.length & 0xff];
      assert.is(foldedSum(Uint8Array.from([...pseudo, ...l4])), 0xffff, `${c.name}: transport checksum`);
    }
  }
});

test("katran's builder quirks: frag_off is the raw flags value, ihl 6 adds zero option bytes, TCP keeps 6 flag bits", () => {
  const frag = PacketBuilder.newPacket().Eth().IPv4('1.1.1.1', '2.2.2.2', 64, 0, 1, 0x20).TCP(1, 2).build();
  assert.is(hex(frag.subarray(20, 22)), '0020');
  const options = PacketBuilder.newPacket().Eth().IPv4('1.1.1.1', '2.2.2.2', 64, 0, 1, 0, 6).UDP(1, 2).build();
  assert.is(options[14], 0x46);
  assert.is(hex(options.subarray(34, 38)), '00000000');
  assert.is(options.length, 14 + 24 + 8);
  const tcp = PacketBuilder.newPacket().Eth().IPv4('1.1.1.1', '2.2.2.2').TCP(1, 2, 0, 0, 8192, 0xff).build();
  assert.is(tcp[14 + 20 + 13], 0x3f);
});

test('QUIC long header: the destination id is padded to 8 bytes, the length byte keeps its size; data gets "\\0@"', () => {
  const p = PacketBuilder.newPacket()
    .Eth()
    .IPv4('1.1.1.1', '2.2.2.2')
    .UDP(1, 443)
    .QUICInitial()
    .destConnId([0xaa, 0xbb])
    .token([0x11])
    .packetNumber(0x11, 1)
    .data(text('hi'))
    .done()
    .build();
  const quic = p.subarray(14 + 20 + 8);
  assert.is(
    hex(quic),
    ['cf', 'faceb001', '02', 'aabb000000000000', '00', '01', '11', '01', '11', hex(Uint8Array.from(text('hi'))), '0040'].join(''),
  );
});

const SYNTHETIC_HEADER = String.raw`
#pragma once
// A fixtures header in katran's style, written for this test.
namespace katran { namespace testing {
const std::vector<katran::PacketAttributes> otherFixtures = { {.description = "not this one"} };
const std::vector<katran::PacketAttributes> myFixtures = {
    // 1
    {.description = "tcp " "syn", /* adjacent literals join */
     .expectedReturnValue = "XDP_TX",
     .inputPacketBuilder = katran::testing::PacketBuilder::newPacket()
                               .Eth("0x1", "0x2")
                               .IPv4("192.168.1.1", "10.200.1.1", 64, 0x8c)
                               .TCP(31337, 80, 0, 0, 8192, TH_SYN | TH_ACK)
                               .payload("a\x00z"),
     .expectedOutputPacketBuilder = PacketBuilder::newPacket()
                                        .Eth("02:00:00:00:00:00", "00:00:de:ad:be:af")
                                        .IPv6("100::1", "fc00::1", 64, 0, 0, PacketBuilder::IPV6_NH_FRAGMENT)
                                        .ICMPv6(ICMPv6Header::PACKET_TOO_BIG, 0, 0, 1280)
                                        .payload(std::string("\x00\x41z", 3))},
    // 2
    {.description = "quic",
     .expectedReturnValue = "XDP_DROP",
     .inputPacketBuilder = PacketBuilder::newPacket()
             .Eth("0x1", "0x2")
             .IPv4("192.168.1.42", "10.200.1.5")
             .UDP(31337, 443)
             .QUICShortHeader()
             .destConnId({0x41, 0x00, 0x83})
             .cidVersion(QUICHeader::CID_V2)
             .data("@")
             .done(),
     .expectedOutputPacket = "AQID"},
};
}}
`;

test('the fixture reader evaluates katran-style fixtures as the C++ would', () => {
  const fixtures = readKatranFixtures(SYNTHETIC_HEADER, 'myFixtures');
  assert.is(fixtures.length, 2);
  const [one, two] = fixtures;
  assert.is(one!.number, 1);
  assert.is(one!.description, 'tcp syn');
  assert.is(one!.expectedReturnValue, 'XDP_TX');
  // A bare literal handed to payload(std::string) stops at its NUL; std::string(p, 3) keeps all three.
  assert.is(
    hex(one!.input),
    hex(
      PacketBuilder.newPacket()
        .Eth('0x1', '0x2')
        .IPv4('192.168.1.1', '10.200.1.1', 64, 0x8c)
        .TCP(31337, 80, 0, 0, 8192, 0x12)
        .payload(text('a'))
        .build(),
    ),
  );
  assert.is(
    hex(one!.expectedOutput),
    hex(
      PacketBuilder.newPacket()
        .Eth('02:00:00:00:00:00', '00:00:de:ad:be:af')
        .IPv6('100::1', 'fc00::1', 64, 0, 0, 44)
        .ICMPv6(2, 0, 0, 1280)
        .payload([0, 0x41, 0x7a])
        .build(),
    ),
  );
  assert.is(
    hex(two!.input),
    hex(
      PacketBuilder.newPacket()
        .Eth('0x1', '0x2')
        .IPv4('192.168.1.42', '10.200.1.5')
        .UDP(31337, 443)
        .QUICShortHeader()
        .destConnId([0x41, 0, 0x83])
        .data(text('@'))
        .done()
        .build(),
    ),
  );
  assert.is(hex(two!.expectedOutput), '010203', 'base64 fixtures (older katran) are decoded');
});

test('the fixture reader names the fixture and the construct it does not know', () => {
  const unknownMethod = SYNTHETIC_HEADER.replace('.UDP(31337, 443)', '.GUE(31337, 443)');
  assert.throws(
    () => readKatranFixtures(unknownMethod, 'myFixtures'),
    (e: Error) => e instanceof FixtureError && /myFixtures fixture 2: PacketBuilder\.GUE/.test(e.message),
  );
  const unknownConstant = SYNTHETIC_HEADER.replace('TH_SYN | TH_ACK', 'TH_SYN | TH_MAGIC');
  assert.throws(
    () => readKatranFixtures(unknownConstant, 'myFixtures'),
    (e: Error) => e instanceof FixtureError && /fixture 1: unknown constant TH_MAGIC/.test(e.message),
  );
  const badAddress = SYNTHETIC_HEADER.replace('"10.200.1.5"', '"10.200.1.500"');
  assert.throws(
    () => readKatranFixtures(badAddress, 'myFixtures'),
    (e: Error) => e instanceof FixtureError && /fixture 2: invalid IPv4 address "10.200.1.500"/.test(e.message),
  );
  assert.throws(() => readKatranFixtures(SYNTHETIC_HEADER, 'missing'), /no array missing/);
});

test.run();
