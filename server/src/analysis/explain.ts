// "What happens to this address range": the walk of walk.ts started from every packet whose source
// (or destination) lies in the range, grouped by deciding rule and put into words.
import type { AddrRange, Chain, Entry, Rule, Verdict } from '../model/policy';
import type { Box } from '../packets/boxes';
import { describeSet } from '../packets/describe';
import type { Compiled } from './compile';
import type { Resolve } from './reach';
import { walkEntry, WalkOptions } from './walk';

export interface ExplainPart {
  verdict: Verdict | 'depends';
  rule?: Rule;
  policyChain?: Chain;
  /** The traffic of this part, in words ("from 10.1.0.0/16 tcp dport 22"). */
  traffic: string;
  set: Box[];
}

export interface Explanation {
  parts: ExplainPart[];
  /** False when the walk hit its work limit: parts cover only what was decided by then. */
  complete: boolean;
}

export function explainRange(compiled: Compiled, resolve: Resolve, entry: Entry, addr: AddrRange, as: 'src' | 'dst', opts: WalkOptions = {}): Explanation {
  const start = compiled.space.addresses(as, [addr]);
  return explainSet(compiled, resolve, entry, start, as, opts);
}

export function explainSet(compiled: Compiled, resolve: Resolve, entry: Entry, start: Box[], as?: 'src' | 'dst', opts: WalkOptions = {}): Explanation {
  const { pieces, complete } = walkEntry(compiled, resolve, entry, start, opts);
  const groups = new Map<Rule | Chain, ExplainPart>();
  const order: ExplainPart[] = [];
  for (const p of pieces) {
    const key = (p.rule ?? p.policyChain)!;
    const g = groups.get(key);
    if (g) g.set = g.set.concat(p.set);
    else {
      const part: ExplainPart = { verdict: p.verdict, rule: p.rule, policyChain: p.policyChain, traffic: '', set: p.set.slice() };
      groups.set(key, part);
      order.push(part);
    }
  }
  for (const part of order) part.traffic = describeSet(compiled.space, part.set, { always: as ? [as] : [] });
  // Rule parts in source order, policy parts last.
  order.sort((a, b) => position(a) - position(b));
  return { parts: order, complete };
}

function position(p: ExplainPart): number {
  return p.rule ? p.rule.range.start.line : Number.MAX_SAFE_INTEGER;
}

/**
 * What arrives at a rule from an entry and may match it, whatever the rule's action: the walk
 * started from the rule's own `may` set. Incomplete (a part of it) when the walk stopped early.
 */
export function reachingSet(compiled: Compiled, resolve: Resolve, entry: Entry, rule: Rule, opts: { deadline?: number; maxWork?: number } = {}): { set: Box[]; complete: boolean } {
  const { watched, complete } = walkEntry(compiled, resolve, entry, compiled.sets.get(rule)!.may, { ...opts, watch: rule });
  return { set: watched, complete };
}
