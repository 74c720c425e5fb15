// Which entries (filter INPUT, an nftables hook...) a chain is evaluated from: a rule in INPUT is
// seen from INPUT; a user chain from every entry that jumps to it, directly or not.
import type { Chain, Entry } from '../model/policy';
import { reachableChains } from '../analysis/anomalies';
import { chainAsEntry } from '../analysis/analyze';
import type { DocumentAnalysis } from './document';
import { memo } from './memo';

export function entriesReaching(doc: DocumentAnalysis, chain: Chain): Entry[] {
  const byChain = memo(doc, 'entries-by-chain', () => {
    const map = new Map<Chain, Entry[]>();
    for (const e of doc.policy.entries) {
      for (const c of reachableChains(e, doc.analysis.resolve)) {
        const list = map.get(c);
        if (list) list.push(e);
        else map.set(c, [e]);
      }
    }
    return map;
  });
  return byChain.get(chain) ?? [];
}

/** The entries to explain a chain's traffic from; an unreferenced user chain as if jumped to. */
export function entriesFor(doc: DocumentAnalysis, chain: Chain | undefined): Entry[] {
  if (!chain) {
    const def = doc.policy.entries.find((e) => e.name === doc.policy.defaultEntry) ?? doc.policy.entries[0];
    return def ? [def] : [];
  }
  const reaching = entriesReaching(doc, chain);
  if (reaching.length) return reaching;
  const own = chainAsEntry(doc.policy, chain.name);
  return own ? [{ ...own, stages: [chain] }] : [];
}

export function chainOfRule(doc: DocumentAnalysis, table: string, name: string): Chain | undefined {
  return doc.analysis.resolve(table, name);
}
