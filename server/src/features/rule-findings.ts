// The findings about one rule, by the (table, chain, index) their data names: hovers and code
// actions look them up per rule, so they are indexed once per analysis.
import type { Finding } from '../model/finding';
import type { Rule } from '../model/policy';
import type { DocumentAnalysis } from './document';
import { memo } from './memo';

export function ruleKey(table: string, chain: string, index: number): string {
  return `${table}\u0000${chain}\u0000${index}`;
}

/** Raw analysis findings (before settings), so a disabled code still explains a hover. */
export function findingsOfRule(doc: DocumentAnalysis, rule: Rule): Finding[] {
  const byRule = memo(doc, 'findings-by-rule', () => {
    const map = new Map<string, Finding[]>();
    for (const f of doc.analysis.findings) {
      const d = f.data;
      if (!d || typeof d.rule !== 'number' || typeof d.chain !== 'string' || typeof d.table !== 'string') continue;
      const k = ruleKey(d.table, d.chain, d.rule);
      const list = map.get(k);
      if (list) list.push(f);
      else map.set(k, [f]);
    }
    return map;
  });
  return byRule.get(ruleKey(rule.table, rule.chain, rule.index)) ?? [];
}

/** The rule a finding's data points at. */
export function ruleOfData(doc: DocumentAnalysis, data: unknown): Rule | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.table !== 'string' || typeof d.chain !== 'string' || typeof d.rule !== 'number') return undefined;
  return doc.analysis.resolve(d.table, d.chain)?.rules[d.rule];
}
