// Fixes written in iptables-save syntax: `-A CHAIN <matches> -j TARGET`, one rule a line, and the
// `:CHAIN POLICY [packets:bytes]` declarations at the top of a table.
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Verdict } from '../model/policy';
import type { LineChange, RulePrinter } from './printer';
import { insertAfter } from './line-edits';
import { lineText } from './text';

const APPEND = /^(\s*(?:-A|--append)\s+\S+)/;

export const iptablesPrinter: RulePrinter = {
  acceptEstablished(chain) {
    return `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`;
  },

  acceptLoopback(chain) {
    return `-A ${chain} -i lo -j ACCEPT`;
  },

  acceptTcpFrom(chain, _indent, port, cidr) {
    return `-A ${chain} -s ${cidr} -p tcp -m tcp --dport ${port} -j ACCEPT`;
  },

  firstRuleSlot(doc, chain) {
    // After the table's chain declarations, where iptables-save writes the first rule.
    const last = lastDeclaration(doc, chain.range.start.line);
    return last === undefined ? undefined : { before: last + 1, indent: '' };
  },

  declareChain(doc, name, _from, at) {
    // With the table's other declarations: a chain must be declared before a rule refers to it.
    let table = at;
    while (table >= 0 && !/^\s*\*/.test(lineText(doc, table))) table--;
    if (table < 0) return undefined;
    const last = lastDeclaration(doc, table + 1) ?? table;
    if (last >= at) return undefined;
    return insertAfter(doc, last, [`:${name} - [0:0]`]);
  },

  narrowSource(rule, line, cidr): LineChange | undefined {
    const src = rule.conditions.find((c) => c.field === 'src');
    if (src) {
      if (src.negate || !src.range || src.range.start.line !== rule.range.start.line || src.range.end.line !== src.range.start.line) return undefined;
      return { start: src.range.start.character, end: src.range.end.character, text: cidr };
    }
    // No source yet: `-s X` right after `-A CHAIN`, where iptables-save itself would print it.
    const m = APPEND.exec(line);
    if (!m) return undefined;
    return { start: m[1].length, end: m[1].length, text: ` -s ${cidr}` };
  },

  setPolicy(doc: TextDocument, chain: Chain, verdict: Verdict): TextEdit | undefined {
    if (!chain.policy) return undefined;
    const line = (chain.policyRange ?? chain.range).start.line;
    const text = lineText(doc, line);
    const m = /^(\s*:\S+\s+)(\S+)/.exec(text);
    if (!m) return undefined;
    return { range: { start: { line, character: m[1].length }, end: { line, character: m[1].length + m[2].length } }, newText: verdict.toUpperCase() };
  },

  policyFor(verdict) {
    return verdict === 'reject' ? 'drop' : verdict;
  },
};

/** The last `:CHAIN` line of the run of declarations (comments and blanks between) from `from`. */
function lastDeclaration(doc: TextDocument, from: number): number | undefined {
  let last: number | undefined;
  for (let l = from; l < doc.lineCount; l++) {
    const text = lineText(doc, l).trim();
    if (text.startsWith(':')) last = l;
    else if (text !== '' && !text.startsWith('#')) break;
  }
  return last;
}
