// The outline: tables → chains → rules. iptables declares a chain at the top of its table and
// appends its rules further down, so a chain's range spans from its declaration to its last rule.
import { DocumentSymbol, SymbolKind } from 'vscode-languageserver';
import type { Range } from '../model/policy';
import type { DocumentAnalysis } from './document';

/** Rule symbols per chain: enough for the outline of any real file, bounded for generated ones. */
const MAX_RULES_PER_CHAIN = 5_000;

export function documentSymbols(doc: DocumentAnalysis): DocumentSymbol[] {
  return doc.policy.tables.map((t) => {
    const chains = [...t.chains.values()].map((c) => {
      const rules = c.rules.slice(0, MAX_RULES_PER_CHAIN).map((r): DocumentSymbol => ({
        name: r.text.length > 100 ? r.text.slice(0, 99) + '…' : r.text || `rule ${r.index + 1}`,
        detail: r.action.kind === 'verdict' ? r.action.verdict.toUpperCase() : r.action.kind === 'jump' || r.action.kind === 'goto' ? `${r.action.kind} ${r.action.chain}` : r.action.kind === 'continue' ? r.action.target : 'return',
        kind: SymbolKind.Event,
        range: r.range,
        selectionRange: r.range,
      }));
      const range = cover([c.range, ...(c.policyRange ? [c.policyRange] : []), ...c.rules.map((r) => r.range)]);
      return {
        name: c.name,
        detail: c.policy ? `policy ${c.policy.toUpperCase()}` : 'user chain',
        kind: c.policy ? SymbolKind.Class : SymbolKind.Function,
        range,
        selectionRange: c.range,
        children: rules,
      } satisfies DocumentSymbol;
    });
    const range = cover([t.range, ...chains.map((c) => c.range)]);
    return {
      name: t.name,
      detail: t.family && t.family !== t.name ? t.family : undefined,
      kind: SymbolKind.Namespace,
      range,
      selectionRange: { start: t.range.start, end: t.range.start.line === t.range.end.line ? t.range.end : { line: t.range.start.line, character: t.range.start.character + t.name.length + 1 } },
      children: chains,
    } satisfies DocumentSymbol;
  });
}

function before(a: Range['start'], b: Range['start']): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

/** The smallest range holding all of them. */
export function cover(ranges: readonly Range[]): Range {
  let start = ranges[0].start;
  let end = ranges[0].end;
  for (const r of ranges) {
    if (before(r.start, start)) start = r.start;
    if (before(end, r.end)) end = r.end;
  }
  return { start, end };
}
