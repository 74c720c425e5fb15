// Compiles each rule's conditions into two packet sets: `may` (every packet the rule could match)
// and `must` (every packet it certainly matches). They differ only where a condition is opaque
// (rate limits, ipsets, marks...). Claims about "all packets" use `must` for what decides and `may`
// for what could still arrive, which is what keeps the findings sound.
import type { Condition, Policy, Rule } from '../model/policy';
import { Box, intersect, subtract, union } from '../packets/boxes';
import { PacketSpace } from '../packets/space';

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
}

export function compilePolicy(policy: Policy): Compiled {
  const names = new Set<string>(['lo']); // the loopback is asked about by the checks even when no rule names it
  for (const t of policy.tables) for (const c of t.chains.values()) for (const r of c.rules) collectInterfaces(r.conditions, names);
  const space = new PacketSpace(policy.families, names);
  const sets = new Map<Rule, RuleSets>();
  for (const t of policy.tables) for (const c of t.chains.values()) for (const r of c.rules) sets.set(r, compileRule(space, r));
  return { space, sets };
}

export function compileRule(space: PacketSpace, rule: Rule): RuleSets {
  const opaque: string[] = [];
  const { may, must } = conjunction(space, rule.conditions, opaque);
  return { may, must, exact: opaque.length === 0, opaque };
}

function conjunction(space: PacketSpace, conds: readonly Condition[], opaque: string[]): { may: Box[]; must: Box[] } {
  let may: Box[] = space.all();
  let must: Box[] = may;
  let exact = true;
  for (const c of conds) {
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

function collectInterfaces(conds: readonly Condition[], out: Set<string>): void {
  for (const c of conds) {
    if (c.field === 'iif' || c.field === 'oif') for (const n of c.names) out.add(n);
    else if (c.field === 'any') for (const alt of c.alternatives) collectInterfaces(alt, out);
  }
}

export { subtract };
