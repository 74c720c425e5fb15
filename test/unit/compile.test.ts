// A rule's compiled sets must be exactly the intersection of its conditions' sets, whichever path
// (narrowing in place, or set algebra) the compiler takes; opaque conditions widen `may` only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Condition, Rule } from '../../server/src/model/policy';
import { compileRule } from '../../server/src/analysis/compile';
import { PacketSpace, Packet, STATES } from '../../server/src/packets/space';
import { equals, intersect, subtract } from '../../server/src/packets/boxes';

const space = new PacketSpace([4, 6], ['eth+', 'eth0', 'lo']);

const v4range = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([a, len]) => {
  const first = len === 0 ? 0n : BigInt((a >>> (32 - len)) << (32 - len) >>> 0);
  return { family: 4 as const, first, last: first + (1n << BigInt(32 - len)) - 1n };
});
const port = fc.integer({ min: 0, max: 65535 });
const portRange = fc.tuple(port, port).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b) }));

const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ field: fc.constantFrom('src' as const, 'dst' as const), negate: fc.boolean(), addrs: fc.array(v4range, { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constant('proto' as const), negate: fc.boolean(), protos: fc.array(fc.constantFrom(1, 6, 17, 58), { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constantFrom('sport' as const, 'dport' as const), negate: fc.boolean(), ports: fc.array(portRange, { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constantFrom('iif' as const, 'oif' as const), negate: fc.boolean(), names: fc.array(fc.constantFrom('eth+', 'eth0', 'lo'), { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constant('state' as const), negate: fc.boolean(), states: fc.array(fc.constantFrom(...STATES), { minLength: 1, maxLength: 2 }) }),
  fc.record({ field: fc.constant('opaque' as const), negate: fc.boolean(), what: fc.constant('-m recent') }),
);

function rule(conditions: Condition[]): Rule {
  const r = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return { index: 0, chain: 'INPUT', table: 'filter', conditions, action: { kind: 'verdict', verdict: 'accept' }, range: r, text: '' };
}

/** The reference: each condition's set, by set algebra only. */
function reference(conds: Condition[]) {
  let may = space.all();
  let must = space.all();
  for (const c of conds) {
    let set;
    switch (c.field) {
      case 'src': case 'dst': set = space.addresses(c.field, c.addrs); break;
      case 'proto': set = space.protocols(c.protos); break;
      case 'sport': case 'dport': set = space.ports(c.field, c.ports); break;
      case 'iif': case 'oif': set = space.interfaces(c.field, c.names); break;
      case 'state': set = space.states(c.states); break;
      case 'opaque': must = []; continue;
      default: throw new Error('unexpected');
    }
    if (c.negate) set = subtract(space.all(), set);
    may = intersect(may, set);
    must = intersect(must, set);
  }
  return { may, must };
}

test('compiled rules equal the intersection of their conditions', () => {
  fc.assert(fc.property(fc.array(condition, { maxLength: 5 }), (conds) => {
    const got = compileRule(space, rule(conds));
    const want = reference(conds);
    assert.ok(equals(got.may, want.may), 'may');
    assert.ok(equals(got.must, want.must), 'must');
    // (A rule that matches nothing may stop compiling before it meets its opaque conditions.)
    if (want.may.length) assert.equal(got.exact, !conds.some((c) => c.field === 'opaque'));
  }), { numRuns: 400 });
});

test('a v4 source condition keeps IPv6 packets out', () => {
  const got = compileRule(space, rule([{ field: 'src', negate: false, addrs: [{ family: 4, first: 0n, last: 0xffffffffn }] }]));
  const v6: Packet = { family: 6, src: 1n, dst: 2n, proto: 6, sport: 1, dport: 2, icmp: 0, iif: 'eth0', oif: '', state: 'NEW' };
  assert.ok(!space.contains(got.may, v6));
  assert.ok(space.contains(got.may, { ...v6, family: 4 }));
});

// The checks' budgets count boxes, so the compiler must give the very boxes, in the very order, that
// the set algebra gives: plain one-interval conditions first, then the others, each intersected in turn.
const lists: fc.Arbitrary<Condition> = fc.oneof(
  condition,
  fc.record({ field: fc.constant('icmp' as const), negate: fc.boolean(), keys: fc.array(fc.constantFrom({ lo: 2048, hi: 2303 }, { lo: 0, hi: 255 }, { lo: 771, hi: 771 }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ field: fc.constantFrom('sport' as const, 'dport' as const), negate: fc.constant(false), ports: fc.array(fc.oneof(port.map((p) => ({ lo: p, hi: p })), portRange), { minLength: 2, maxLength: 4 }) }),
  fc.record({ field: fc.constant('family' as const), negate: fc.boolean(), families: fc.array(fc.constantFrom(4 as const, 6 as const), { minLength: 1, maxLength: 2 }) }),
);

function isPlainInterval(c: Condition): boolean {
  if (c.negate) return false;
  switch (c.field) {
    case 'src': case 'dst': return c.addrs.length === 1 && c.addrs[0].family === 4;
    case 'proto': return c.protos.length === 1;
    case 'sport': case 'dport': return c.ports.length === 1;
    case 'icmp': return c.keys.length === 1;
    case 'iif': case 'oif': return c.names.length === 1;
    case 'state': return c.states.length === 1;
    default: return false;
  }
}

function conditionSet(c: Condition) {
  switch (c.field) {
    case 'src': case 'dst': return space.addresses(c.field, c.addrs);
    case 'proto': return space.protocols(c.protos);
    case 'sport': case 'dport': return space.ports(c.field, c.ports);
    case 'icmp': return space.icmp(c.keys);
    case 'iif': case 'oif': return space.interfaces(c.field, c.names);
    case 'state': return space.states(c.states);
    case 'family': return space.family(c.families);
    default: throw new Error('unexpected');
  }
}

function orderedReference(conds: Condition[]) {
  let may = space.all();
  let must = space.all();
  for (const c of [...conds.filter(isPlainInterval), ...conds.filter((c) => !isPlainInterval(c))]) {
    if (c.field === 'opaque') {
      must = [];
      continue;
    }
    const set = c.negate ? subtract(space.all(), conditionSet(c)) : conditionSet(c);
    may = intersect(may, set);
    must = intersect(must, set);
    if (may.length === 0) return { may, must: may };
  }
  return { may, must };
}

test('compiled rules are box for box what the set algebra gives', () => {
  fc.assert(fc.property(fc.array(lists, { maxLength: 5 }), (conds) => {
    const got = compileRule(space, rule(conds));
    const want = orderedReference(conds);
    assert.deepStrictEqual(got.may, want.may, 'may');
    assert.deepStrictEqual(got.must, want.must, 'must');
  }), { numRuns: 1000 });
});
