// Compiles each rule's conditions into two packet sets: `may` (every packet the rule could match)
// and `must` (every packet it certainly matches). They differ only where a condition is opaque
// (rate limits, ipsets, marks...). Claims about "all packets" use `must` for what decides and `may`
// for what could still arrive, which is what keeps the findings sound.
import type { Chain, Condition, Policy, Rule } from '../model/policy';
import { RuleIndex } from './rule-index';
import { Box, boxIsEmpty, intersect, union } from '../packets/boxes';
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
  let may: Box[] = space.all().map((b) => b.slice());
  for (const c of conds) {
    const iv = singleInterval(space, c);
    if (!iv) {
      rest.push(c);
      continue;
    }
    for (const b of may) {
      if (iv.family !== undefined && b[0] !== iv.family) b[1] = -1; // empty: wrong family
      const lo = 2 * iv.dim;
      if (iv.lo > b[lo]) b[lo] = iv.lo;
      if (iv.hi < b[lo + 1]) b[lo + 1] = iv.hi;
    }
  }
  may = may.filter((b) => !boxIsEmpty(b));
  let must: Box[] = may;
  let exact = true;
  for (const c of rest) {
    const s = condition(space, c, opaque);
    if (s.may !== s.must) exact = false;
    may = intersect(may, s.may);
    must = exact ? may : intersect(must, s.must);
    if (may.length === 0) return { may, must: may };
  }
  return { may, must };
}

function condition(space: PacketSpace, c: Condition, opaque: string[]): { may: Box[]; must: Box[] } {
  let set: Box[];
  switch (c.field) {
    case 'src':
    case 'dst':
      set = space.addresses(c.field, c.addrs);
      break;
    case 'proto':
      set = space.protocols(c.protos);
      break;
    case 'sport':
    case 'dport':
      set = space.ports(c.field, c.ports);
      break;
    case 'icmp':
      set = space.icmp(c.keys);
      break;
    case 'iif':
    case 'oif':
      set = space.interfaces(c.field, c.names);
      break;
    case 'state':
      set = space.states(c.states);
      break;
    case 'family':
      set = space.family(c.families);
      break;
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
  if (c.negate) set = space.complement(set);
  return { may: set, must: set };
}

/** The one interval a plain condition narrows its dimension to, or undefined for anything else. */
function singleInterval(space: PacketSpace, c: Condition): { dim: number; lo: number; hi: number; family?: number } | undefined {
  if (c.negate) return undefined;
  switch (c.field) {
    case 'src':
    case 'dst': {
      if (c.addrs.length !== 1 || c.addrs[0].family !== 4) return undefined;
      const a = c.addrs[0];
      return { dim: (c.field === 'src' ? D.src : D.dst) + 3, lo: Number(a.first), hi: Number(a.last), family: 4 };
    }
    case 'proto':
      return c.protos.length === 1 ? { dim: D.proto, lo: c.protos[0], hi: c.protos[0] } : undefined;
    case 'sport':
    case 'dport':
      return c.ports.length === 1 ? { dim: c.field === 'sport' ? D.sport : D.dport, lo: c.ports[0].lo, hi: c.ports[0].hi } : undefined;
    case 'icmp':
      return c.keys.length === 1 ? { dim: D.icmp, lo: c.keys[0].lo, hi: c.keys[0].hi } : undefined;
    case 'iif':
    case 'oif': {
      if (c.names.length !== 1) return undefined;
      const [lo, hi] = space.ifaces.interval(c.names[0]);
      return { dim: c.field === 'iif' ? D.iif : D.oif, lo, hi };
    }
    case 'state': {
      if (c.states.length !== 1) return undefined;
      const i = STATES.indexOf(c.states[0]);
      return { dim: D.state, lo: i, hi: i };
    }
    default:
      return undefined;
  }
}

function collectInterfaces(conds: readonly Condition[], out: Set<string>): void {
  for (const c of conds) {
    if (c.field === 'iif' || c.field === 'oif') for (const n of c.names) out.add(n);
    else if (c.field === 'any') for (const alt of c.alternatives) collectInterfaces(alt, out);
  }
}

