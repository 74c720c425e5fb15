// `query` and `explain` as data: one packet's verdict with its trace, and an address range split
// into the parts each rule decides. The CLI prints these; the server's hover and "Check a packet"
// command show them.
import type { Entry, Range, Verdict } from '../model/policy';
import { chainAsEntry, pickEntry } from '../analysis/analyze';
import { evaluatePacket } from '../analysis/evaluate';
import { explainRange } from '../analysis/explain';
import { packetFromSpec, PacketSpec } from '../analysis/packet-spec';
import { ADDR_BITS, formatAddr, parseAddr, prefixRange } from '../model/address';
import type { DocumentAnalysis } from './document';

export interface QueryAnswer {
  verdict: Verdict;
  /** The deciding rule's range, or the policy declaration's; 0-based. */
  range: Range;
  /** The deciding rule's text, or null when a chain policy decided. */
  rule: string | null;
  decidedBy: string;
  chain: string;
  trace: { line: number; rule: string; how: 'matched' | 'uncertain'; range: Range }[];
  uncertain: boolean;
}

export function resolveEntry(doc: DocumentAnalysis, chain?: string): Entry | { error: string } {
  const entry = pickEntry(doc.policy, chain) ?? (chain ? chainAsEntry(doc.policy, chain) : undefined);
  if (!entry) {
    const names = doc.policy.entries.map((e) => e.name).join(', ') || 'none';
    return { error: chain ? `no chain or hook named '${chain}' (entries: ${names})` : `this file has no chain to evaluate (entries: ${names})` };
  }
  return entry;
}

export function queryPacket(doc: DocumentAnalysis, spec: PacketSpec, chain?: string): QueryAnswer | { error: string } {
  const entry = resolveEntry(doc, chain);
  if ('error' in entry) return entry;
  const p = packetFromSpec(spec, doc.policy);
  if (!p.ok) return { error: p.error };
  const r = evaluatePacket(doc.policy, doc.analysis.compiled, entry, p.packet);
  return {
    verdict: r.verdict,
    range: r.range,
    rule: r.rule ? r.rule.text : null,
    decidedBy: r.rule ? `line ${r.rule.range.start.line + 1}` : r.policyChain ? `the ${r.policyChain.name} policy (${(r.policyChain.policy ?? 'accept').toUpperCase()})` : 'no base chain (accepted)',
    chain: entry.name,
    trace: r.trace.map((t) => ({ line: t.rule.range.start.line + 1, rule: t.rule.text, how: t.how, range: t.rule.range })),
    uncertain: r.uncertain.length > 0,
  };
}

export interface ExplainAnswer {
  cidr: string;
  as: 'src' | 'dst';
  chain: string;
  first: string;
  last: string;
  size: string;
  /** Set when the given address had host bits set: the network that was used. */
  hostBits?: string;
  complete: boolean;
  parts: { verdict: Verdict | 'depends'; traffic: string; line: number | null; rule: string | null; range: Range | null; by: string }[];
}

export function parseCidr(text: string): { family: 4 | 6; first: bigint; last: bigint; len: number; hostBits: boolean } | undefined {
  const [addr, lenText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const a = parseAddr(addr);
  if (!a) return undefined;
  const bits = ADDR_BITS[a.family];
  const len = lenText === undefined ? bits : /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!(len >= 0 && len <= bits)) return undefined;
  const { first, last } = prefixRange(a.family, a.value, len);
  return { family: a.family, first, last, len, hostBits: first !== a.value };
}

export function explainCidr(doc: DocumentAnalysis, cidr: string, as: 'src' | 'dst', chain?: string): ExplainAnswer | { error: string } {
  const entry = resolveEntry(doc, chain);
  if ('error' in entry) return entry;
  const c = parseCidr(cidr);
  if (!c) return { error: `--cidr: '${cidr}' is not an address or a prefix (10.0.0.0/8, 2001:db8::/32)` };
  if (!doc.policy.families.includes(c.family)) return { error: `this file is about IPv${doc.policy.families.join('/IPv')} only, not IPv${c.family}` };
  const e = explainRange(doc.analysis.compiled, doc.analysis.resolve, entry, { family: c.family, first: c.first, last: c.last }, as);
  const network = `${formatAddr(c.family, c.first)}/${c.len}`;
  return {
    cidr: network,
    as,
    chain: entry.name,
    first: formatAddr(c.family, c.first),
    last: formatAddr(c.family, c.last),
    size: (c.last - c.first + 1n).toString(),
    ...(c.hostBits ? { hostBits: network } : {}),
    complete: e.complete,
    parts: e.parts.map((p) => ({
      verdict: p.verdict,
      traffic: p.traffic,
      line: p.rule ? p.rule.range.start.line + 1 : null,
      rule: p.rule ? p.rule.text : null,
      range: p.rule ? p.rule.range : p.policyChain ? p.policyChain.policyRange ?? p.policyChain.range : null,
      by: p.rule ? `line ${p.rule.range.start.line + 1}` : p.policyChain ? `${p.policyChain.name} policy` : 'no base chain',
    })),
  };
}

export function explainText(e: ExplainAnswer): string {
  const lines = [`${e.cidr} as ${e.as === 'src' ? 'source' : 'destination'} in ${e.chain} (${e.first} – ${e.last}, ${e.size} addresses)`];
  if (e.hostBits) lines.push(`note: the address has host bits set; the network ${e.hostBits} was used`);
  for (const p of e.parts) {
    const verdict = p.verdict === 'depends' ? 'DEPENDS' : p.verdict.toUpperCase();
    lines.push(`  ${verdict.padEnd(7)} ${p.traffic}  — ${p.by}${p.rule ? `: ${p.rule}` : ''}`);
  }
  if (!e.complete) lines.push('  (the ruleset was too large to follow every part; the rest is not shown)');
  return lines.join('\n') + '\n';
}
