import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rangeToPrefixes, formatAddr, parseAddr, prefixRange } from '../../server/src/model/address';
import { fromWords, rangeToWordBoxes } from '../../server/src/packets/words';
import { IfaceSpace } from '../../server/src/packets/iface';
import { PacketSpace, Packet } from '../../server/src/packets/space';
import { describeSet } from '../../server/src/packets/describe';
import { intersect, subtract } from '../../server/src/packets/boxes';

const big128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

function boxSize(words: [number, number][]): bigint {
  return words.reduce((n, [lo, hi]) => n * BigInt(hi - lo + 1), 1n);
}

test('an IPv6 range splits into word boxes that cover exactly it', () => {
  fc.assert(fc.property(big128, big128, (a, b) => {
    const [first, last] = a <= b ? [a, b] : [b, a];
    const boxes = rangeToWordBoxes(6, first, last);
    const total = boxes.reduce((n, w) => n + boxSize(w), 0n);
    assert.equal(total, last - first + 1n);
    // Each box is a contiguous run inside [first, last].
    for (const w of boxes) {
      const lo = fromWords(w.map((x) => x[0]));
      const hi = fromWords(w.map((x) => x[1]));
      assert.ok(lo >= first && hi <= last);
    }
  }), { numRuns: 400 });
});

test('prefixes of a range are aligned, disjoint and cover it', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (a, b) => {
    const [first, last] = a <= b ? [BigInt(a), BigInt(b)] : [BigInt(b), BigInt(a)];
    const ps = rangeToPrefixes(4, first, last);
    let next = first;
    for (const p of ps) {
      const r = prefixRange(4, p.addr, p.len);
      assert.equal(r.first, next);
      assert.equal(r.first, p.addr);
      next = r.last + 1n;
    }
    assert.equal(next, last + 1n);
  }), { numRuns: 400 });
});

test('addresses format and parse both ways', () => {
  assert.equal(formatAddr(4, parseAddr('10.1.2.3')!.value), '10.1.2.3');
  assert.equal(formatAddr(6, parseAddr('2001:db8::1')!.value), '2001:db8::1');
  assert.equal(parseAddr('10.1.2'), undefined);
  assert.equal(parseAddr('999.1.1.1'), undefined);
});

test('interface prefixes cover exactly the names that start with them', () => {
  const s = new IfaceSpace(['eth+', 'eth0', 'lo', 'wlan+', 'e+']);
  const inside = (pattern: string, name: string) => {
    const [lo, hi] = s.interval(pattern);
    const c = s.code(name);
    return c >= lo && c <= hi;
  };
  assert.ok(inside('eth+', 'eth0'));
  assert.ok(inside('eth+', 'eth7'));
  assert.ok(inside('eth+', 'eth'));
  assert.ok(!inside('eth+', 'et'));
  assert.ok(!inside('eth+', 'etj0'));
  assert.ok(!inside('eth+', 'lo'));
  assert.ok(inside('e+', 'eth9'));
  assert.ok(inside('e+', 'enp3s0'));
  assert.ok(!inside('wlan+', 'eth0'));
  assert.ok(inside('eth0', 'eth0'));
  assert.ok(!inside('eth0', 'eth00'));
  assert.ok(!inside('lo', ''));
});

function packet(p: Partial<Packet>): Packet {
  return { family: 4, src: 0n, dst: 0n, proto: 6, sport: 40000, dport: 22, icmp: 0, iif: 'eth0', oif: '', state: 'NEW', ...p };
}

test('the packet space places packets in the sets built from fields', () => {
  const space = new PacketSpace([4], ['eth+', 'lo']);
  const ten = space.addresses('src', [{ family: 4, first: 0x0a000000n, last: 0x0affffffn }]);
  const ssh = intersect(space.protocols([6]), space.ports('dport', [{ lo: 22, hi: 22 }]));
  const set = intersect(ten, ssh);
  assert.ok(space.contains(set, packet({ src: 0x0a010203n })));
  assert.ok(!space.contains(set, packet({ src: 0x0b010203n })));
  assert.ok(!space.contains(set, packet({ src: 0x0a010203n, dport: 23 })));
  assert.ok(!space.contains(set, packet({ src: 0x0a010203n, proto: 17 })));
  const notEth = space.complement(space.interfaces('iif', ['eth+']));
  assert.ok(space.contains(notEth, packet({ iif: 'lo' })));
  assert.ok(!space.contains(notEth, packet({ iif: 'eth3' })));
  const est = space.states(['ESTABLISHED', 'RELATED']);
  assert.ok(space.contains(est, packet({ state: 'RELATED' })));
  assert.ok(!space.contains(est, packet({ state: 'NEW' })));
});

test('descriptions name the narrowed dimensions in words', () => {
  const space = new PacketSpace([4], []);
  const ten = space.addresses('src', [{ family: 4, first: 0x0a000000n, last: 0x0affffffn }]);
  const ssh = intersect(space.protocols([6]), space.ports('dport', [{ lo: 22, hi: 22 }]));
  assert.equal(describeSet(space, intersect(ten, ssh)), 'from 10.0.0.0/8 tcp dport 22');
  const rest = subtract(ten, space.addresses('src', [{ family: 4, first: 0x0a010000n, last: 0x0a01ffffn }]));
  assert.equal(describeSet(space, rest), 'from 10.0.0.0/8, except from 10.1.0.0/16');
});

// The checks' budgets count boxes, so the sets of one dimension must be the very boxes that set
// algebra gives: the universe cut to each interval, joined by union in order.
test('the sets of one dimension are box for box the union of their intervals, and narrow `within` as intersect does', () => {
  const space = new PacketSpace([4, 6], ['eth0', 'eth+', 'lo']);
  const port = fc.integer({ min: 0, max: 65535 });
  const range = fc.tuple(port, port).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b) }));
  const ranges = fc.array(fc.oneof(range, port.map((p) => ({ lo: p, hi: p }))), { minLength: 1, maxLength: 4 });
  const reference = (rs: { lo: number; hi: number }[]) => {
    let out: ReturnType<PacketSpace['all']> = [];
    for (const u of space.all()) {
      for (const r of rs) {
        const b = u.slice();
        b[22] = Math.max(r.lo, b[22]);
        b[23] = Math.min(r.hi, b[23]);
        if (b[22] <= b[23]) out = out.concat(subtract([b], out));
      }
    }
    return out;
  };
  fc.assert(fc.property(ranges, ranges, (rs, ws) => {
    assert.deepStrictEqual(space.ports('dport', rs), reference(rs));
    const within = space.ports('dport', ws).concat(space.protocols([6, 17], space.ports('dport', ws)));
    assert.deepStrictEqual(space.ports('dport', rs, within), intersect(within, reference(rs)));
  }), { numRuns: 300 });
});
