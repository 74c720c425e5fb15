// Compiles each rule's conditions into two packet sets: `may` (every packet the rule could match)
// and `must` (every packet it certainly matches). They differ only where a condition is opaque
// (rate limits, ipsets, marks...). Claims about "all packets" use `must` for what decides and `may`
// for what could still arrive, which is what keeps the findings sound.
import type { Chain, Condition, Policy, Rule } from '../model/policy';
import { RuleIndex } from './rule-index';
import { Box, BoxSet, boxIsEmpty, intersect, union } from '../packets/boxes';
import { D, PacketSpace, STATES } from '../packets/space';

export interface RuleSets {
  may: Box[];
  must: Box[];
  /** may and must are the same set (no opaque condition). */
  exact: boolean;
  /** What the analysis could not see, for messages ("depends on -m recent"). */
  opaque: string[];
}

export interface Compiled {
  space: PacketSpace;
  sets: Map<Rule, RuleSets>;
  /** A spatial index of a chain's `may` sets (by rule position), built on first use. */
  mayIndex(chain: Chain): RuleIndex;
}

/**
 * Compiled sets kept from one analysis of a document to the next (the language server re-analyses
 * after every edit), by `Rule.key`. Valid only for the same packet space: same families and the
 * same interface names, since the interface dimension is numbered from them.
 */
export interface CompileCache {
  space?: string;
  sets: Map<string, RuleSets>;
}

export function compilePolicy(policy: Policy, cache?: CompileCache): Compiled {
  const names = new Set<string>(['lo']); // the loopback is asked about by the checks even when no rule names it
  for (const t of policy.tables) for (const c of t.chains.values()) for (const r of c.rules) collectInterfaces(r.conditions, names);
  const space = new PacketSpace(policy.families, names);
  const sets = new Map<Rule, RuleSets>();
  const signature = cache ? `${policy.families.join()}\u0000${[...names].sort().join('\u0000')}` : undefined;
  const previous = cache && cache.space === signature ? cache.sets : undefined;
  // Only what this version uses is kept, so the cache never outgrows the document.
  const kept = new Map<string, RuleSets>();
  for (const t of policy.tables) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        const key = r.key;
        let s = key !== undefined ? kept.get(key) ?? previous?.get(key) : undefined;
        s ??= compileRule(space, r);
        if (cache && key !== undefined) kept.set(key, s);
        sets.set(r, s);
      }
    }
  }
  if (cache) {
    cache.space = signature;
    cache.sets = kept;
  }
  const indexes = new Map<Chain, RuleIndex>();
  const mayIndex = (chain: Chain) => {
    let ix = indexes.get(chain);
    if (!ix) {
      ix = new RuleIndex(chain.rules.map((r) => sets.get(r)?.may ?? []));
      indexes.set(chain, ix);
    }
    return ix;
  };
  return { space, sets, mayIndex };
}

export function compileRule(space: PacketSpace, rule: Rule): RuleSets {
  const opaque: string[] = [];
  const { may, must } = conjunction(space, rule.conditions, opaque);
  return { may, must, exact: opaque.length === 0, opaque };
}

function conjunction(space: PacketSpace, conds: readonly Condition[], opaque: string[]): { may: Box[]; must: Box[] } {
  // Most conditions narrow one dimension to one interval: apply those in place on copies of the
  // universe (no set algebra, little garbage), and only the rest through intersections.
  const rest: Condition[] = [];
  let may = narrowedUniverse(space, conds, rest);
  let must: Box[] = may;
  let exact = true;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (isPlain(c) && !c.negate) {
      // A list of ports, protocols... splits the boxes it meets, with no universe boxes built.
      may = plainSet(space, c, may);
      must = exact ? may : plainSet(space, c, must);
    } else {
      const s = condition(space, c, opaque);
      if (s.may !== s.must) exact = false;
      may = intersect(may, s.may);
      must = exact ? may : intersect(must, s.must);
    }
    if (may.length === 0) return { may, must: may };
  }
  return { may, must };
}

/**
 * The universe boxes narrowed by every condition that is one interval of one dimension; the other
 * conditions are appended to `rest`, in order.
 */
function narrowedUniverse(space: PacketSpace, conds: readonly Condition[], rest: Condition[]): Box[] {
  // Indexed loops: this runs for every rule, much of it before the code is optimised.
  const universes = space.universes;
  const boxes: Box[] = [];
  for (let k = 0; k < universes.length; k++) boxes.push(universes[k].slice());
  for (let i = 0; i < conds.length; i++) {
    const c = conds[i];
    if (!singleInterval(space, c, interval)) {
      rest.push(c);
      continue;
    }
    const { dim, lo, hi, family } = interval;
    for (let k = 0; k < boxes.length; k++) {
      const b = boxes[k];
      if (family !== 0 && b[0] !== family) b[1] = -1; // empty: wrong family
      if (lo > b[2 * dim]) b[2 * dim] = lo;
      if (hi < b[2 * dim + 1]) b[2 * dim + 1] = hi;
    }
  }
  let kept = 0;
  for (let k = 0; k < boxes.length; k++) if (!boxIsEmpty(boxes[k])) boxes[kept++] = boxes[k];
  boxes.length = kept;
  return boxes;
}

function condition(space: PacketSpace, c: Condition, opaque: string[]): { may: Box[]; must: Box[] } {
  switch (c.field) {
    case 'opaque':
      opaque.push(c.what);
      // Whatever it tests, negated or not, it may hold for any packet and need hold for none.
      return { may: space.all(), must: [] };
    case 'any': {
      let may: Box[] = [];
      let must: Box[] = [];
      for (const alt of c.alternatives) {
        const s = conjunction(space, alt, opaque);
        may = union(may, s.may);
        must = union(must, s.must);
      }
      if (c.negate) return { may: space.complement(must), must: space.complement(may) };
      return { may, must };
    }
  }
  const set = c.negate ? space.complement(plainSet(space, c)) : plainSet(space, c);
  return { may: set, must: set };
}

type PlainCondition = Exclude<Condition, { field: 'opaque' | 'any' }>;

function isPlain(c: Condition): c is PlainCondition {
  return c.field !== 'opaque' && c.field !== 'any';
}

/**
 * The packets a plain condition matches (negation aside). With `within` (a subset of the universe):
 * `within` ∩ that, box for box as `intersect` gives it.
 */
function plainSet(space: PacketSpace, c: PlainCondition, within?: BoxSet): Box[] {
  switch (c.field) {
    case 'src':
    case 'dst':
      return restrict(space.addresses(c.field, c.addrs), within);
    case 'family':
      return restrict(space.family(c.families), within);
    case 'proto':
      return space.protocols(c.protos, within);
    case 'sport':
    case 'dport':
      return space.ports(c.field, c.ports, within);
    case 'icmp':
      return space.icmp(c.keys, within);
    case 'iif':
    case 'oif':
      return space.interfaces(c.field, c.names, within);
    case 'state':
      return space.states(c.states, within);
  }
}

function restrict(set: Box[], within: BoxSet | undefined): Box[] {
  return within ? intersect(within, set) : set;
}

/** One interval of one dimension; `family` is the only family it allows (0: any). */
interface Interval { dim: number; lo: number; hi: number; family: number }

/** Filled in by `singleInterval`; one object for all conditions, as it is read right away. */
const interval: Interval = { dim: 0, lo: 0, hi: 0, family: 0 };

/** Whether a plain condition narrows its dimension to one interval; if so, writes it to `out`. */
function singleInterval(space: PacketSpace, c: Condition, out: Interval): boolean {
  if (c.negate) return false;
  switch (c.field) {
    case 'src':
    case 'dst': {
      if (c.addrs.length !== 1 || c.addrs[0].family !== 4) return false;
      const a = c.addrs[0];
      return set(out, (c.field === 'src' ? D.src : D.dst) + 3, Number(a.first), Number(a.last), 4);
    }
    case 'proto':
      return c.protos.length === 1 && set(out, D.proto, c.protos[0], c.protos[0]);
    case 'sport':
    case 'dport':
      return c.ports.length === 1 && set(out, c.field === 'sport' ? D.sport : D.dport, c.ports[0].lo, c.ports[0].hi);
    case 'icmp':
      return c.keys.length === 1 && set(out, D.icmp, c.keys[0].lo, c.keys[0].hi);
    case 'iif':
    case 'oif': {
      if (c.names.length !== 1) return false;
      const [lo, hi] = space.ifaces.interval(c.names[0]);
      return set(out, c.field === 'iif' ? D.iif : D.oif, lo, hi);
    }
    case 'state': {
      if (c.states.length !== 1) return false;
      const i = STATES.indexOf(c.states[0]);
      return set(out, D.state, i, i);
    }
    default:
      return false;
  }
}

function set(out: Interval, dim: number, lo: number, hi: number, family = 0): true {
  out.dim = dim;
  out.lo = lo;
  out.hi = hi;
  out.family = family;
  return true;
}

function collectInterfaces(conds: readonly Condition[], out: Set<string>): void {
  for (let i = 0; i < conds.length; i++) {
    const c = conds[i];
    if (c.field === 'iif' || c.field === 'oif') for (const n of c.names) out.add(n);
    else if (c.field === 'any') for (const alt of c.alternatives) collectInterfaces(alt, out);
  }
}

