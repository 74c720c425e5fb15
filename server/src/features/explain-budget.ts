// `explainSet` for hovers: the same walk (restricted to the rules that can touch the set, under a
// deadline), grouped by deciding rule, with descriptions capped so that a set fragmented into
// thousands of boxes is summarised instead of coalesced at length.
import type { Chain, Entry, Rule, Verdict } from '../model/policy';
import type { Box } from '../packets/boxes';
import { describeBox, describeSet } from '../packets/describe';
import { coalesce } from '../packets/boxes';
import { D } from '../packets/space';
import { walkEntry } from '../analysis/walk';
import type { DocumentAnalysis } from './document';
import { restrictTo } from './restrict';
import { budgeted } from './budget';

export interface HoverPart {
  verdict: Verdict | 'depends';
  rule?: Rule;
  policyChain?: Chain;
  traffic: string;
}

/** Boxes a description looks at; beyond that it says how much is left out. */
const DESCRIBE_BOXES = 64;

/** Throws OverBudget when the walk takes longer than `ms`. */
export function explainWithin(doc: DocumentAnalysis, entry: Entry, start: Box[], as: 'src' | 'dst' | undefined, ms: number): { parts: HoverPart[]; complete: boolean } {
  const { compiled } = doc.analysis;
  const r = restrictTo(doc, entry, start);
  const { pieces, complete } = walkEntry(budgeted(compiled, ms), r.resolve, r.entry, start);
  const groups = new Map<unknown, { verdict: Verdict | 'depends'; rule?: Rule; policyChain?: Chain; set: Box[] }>();
  for (const p of pieces) {
    const key = p.rule ?? p.policyChain?.name ?? 'none';
    const g = groups.get(key);
    if (g) g.set.push(...p.set);
    else groups.set(key, { verdict: p.verdict, rule: p.rule, policyChain: p.policyChain, set: [...p.set] });
  }
  const parts = [...groups.values()].map((g) => ({
    verdict: g.verdict,
    rule: g.rule,
    policyChain: g.policyChain,
    traffic: describeCapped(doc, g.set, as),
  }));
  parts.sort((a, b) => (a.rule ? a.rule.range.start.line : Number.MAX_SAFE_INTEGER) - (b.rule ? b.rule.range.start.line : Number.MAX_SAFE_INTEGER));
  return { parts, complete };
}

export function describeCapped(doc: DocumentAnalysis, raw: Box[], as?: 'src' | 'dst', limit = 4): string {
  const space = doc.analysis.compiled.space;
  const all = raw.map(widenMeaningless);
  const set = all.length <= DESCRIBE_BOXES ? all : all.slice(0, DESCRIBE_BOXES);
  const more = all.length > set.length ? `, and more (${all.length} pieces in all)` : '';
  const boxes = coalesce(set);
  const always: ('src' | 'dst')[] = as ? [as] : [];
  // describeSet's "X, except Y" reads best when it applies; it only can for a few boxes.
  if (boxes.length > 1 && boxes.length <= 8) {
    const text = describeSet(space, boxes, { always, limit });
    if (text.includes(', except ')) return text + more;
  }
  // Boxes that differ only where the words do not (two unnamed-interface gaps around `lo`) read
  // the same: say each once.
  const seen = new Set<string>();
  for (const b of boxes) seen.add(describeBox(space, b, { always }));
  const parts = [...seen];
  return parts.slice(0, limit).join('; ') + (parts.length > limit ? `; and ${parts.length - limit} more part${parts.length - limit > 1 ? 's' : ''}` : '') + more;
}

const PORT_PROTOCOLS = [6, 17, 132, 136];
const ICMP_PROTOCOLS = [1, 58];

/**
 * A TCP packet has no ICMP type and an ICMP packet no ports: where a box's protocols have no such
 * field, the split of that dimension (left by some other rule's subtraction) means nothing for a
 * real packet, and widening it lets the description merge boxes that read the same.
 */
function widenMeaningless(b: Box): Box {
  const pLo = b[2 * D.proto];
  const pHi = b[2 * D.proto + 1];
  const has = (list: number[]) => list.some((p) => p >= pLo && p <= pHi);
  const ports = has(PORT_PROTOCOLS);
  const icmp = has(ICMP_PROTOCOLS);
  if (ports && icmp) return b;
  const w = b.slice();
  if (!ports) {
    w[2 * D.sport] = 0;
    w[2 * D.sport + 1] = 65535;
    w[2 * D.dport] = 0;
    w[2 * D.dport + 1] = 65535;
  }
  if (!icmp) {
    w[2 * D.icmp] = 0;
    w[2 * D.icmp + 1] = 65535;
  }
  return w;
}
