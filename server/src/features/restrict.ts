// Walks restricted to the rules that can touch the traffic in question. A walk only ever carries
// subsets of the set it started from, so a rule whose `may` set misses that set can neither match
// nor take anything from it: dropping such rules changes no piece, and a hover on one /24 in a
// 10k-rule chain then walks the few dozen rules that mention it instead of all of them. The rules
// are found with a spatial index of their `may` sets (the one the anomaly checks use for theirs).
import type { Chain, Entry, Rule } from '../model/policy';
import type { Box } from '../packets/boxes';
import { RuleIndex } from '../analysis/rule-index';
import { reachableChains } from '../analysis/anomalies';
import { memo } from './memo';
import type { Resolve } from '../analysis/reach';
import { reachingSet } from '../analysis/explain';
import { budgeted } from './budget';
import type { DocumentAnalysis } from './document';

export interface Restricted {
  entry: Entry;
  resolve: Resolve;
}

export function restrictTo(doc: DocumentAnalysis, entry: Entry, start: readonly Box[]): Restricted {
  const { resolve } = doc.analysis;
  const copies = new Map<Chain, Chain>();
  const restrict = (c: Chain): Chain => {
    let copy = copies.get(c);
    if (!copy) {
      const hits = mayIndex(doc, c).query(start, Infinity) ?? c.rules.map((_, i) => i);
      copy = { ...c, rules: hits.map((i) => c.rules[i]) };
      copies.set(c, copy);
    }
    return copy;
  };
  return {
    entry: { ...entry, stages: entry.stages.map(restrict) },
    resolve: (table, name) => {
      const c = resolve(table, name);
      return c && restrict(c);
    },
  };
}

/** A spatial index of a chain's `may` sets, built on first use and kept with the analysis. */
function mayIndex(doc: DocumentAnalysis, chain: Chain): RuleIndex {
  const all = memo(doc, 'may-index', () => new Map<Chain, RuleIndex>());
  let ix = all.get(chain);
  if (!ix) {
    ix = new RuleIndex(chain.rules.map((r) => doc.analysis.compiled.sets.get(r)?.may ?? []));
    all.set(chain, ix);
  }
  return ix;
}

/**
 * What reaches a rule of any kind. The walk records pieces only where a verdict is given, so a
 * RETURN, a jump or a LOG rule is stood in for by a copy with a verdict: what that copy decides
 * is exactly what arrives at the rule and matches it. Throws OverBudget after `ms`.
 */
export function reachingRule(doc: DocumentAnalysis, entry: Entry, rule: Rule, ms: number): Box[] {
  const { compiled } = doc.analysis;
  const sets = compiled.sets.get(rule);
  if (!sets) return [];
  const r = restrictTo(doc, entry, sets.may);
  if (rule.action.kind === 'verdict') return reachingSet(budgeted(compiled, ms), r.resolve, r.entry, rule);
  const stand: Rule = { ...rule, action: { kind: 'verdict', verdict: 'accept' } };
  const swap = (c: Chain): Chain => (c.table === rule.table && c.name === rule.chain ? { ...c, rules: c.rules.map((x) => (x === rule ? stand : x)) } : c);
  const entry2: Entry = { ...r.entry, stages: r.entry.stages.map(swap) };
  const resolve2: Resolve = (table, name) => {
    const c = r.resolve(table, name);
    return c && swap(c);
  };
  return reachingSet(budgeted(compiled, ms, { stand, for: rule }), resolve2, entry2, stand);
}

/**
 * Builds the indexes hovers use, for every chain an entry reaches. The server calls it right after
 * publishing diagnostics, in the pause after an edit, so that the first hover does not pay for it.
 */
export function warmHoverIndexes(doc: DocumentAnalysis): void {
  for (const e of doc.policy.entries) for (const c of reachableChains(e, doc.analysis.resolve)) mayIndex(doc, c);
}
