// Fixes written in iptables-save syntax: `-A CHAIN <matches> -j TARGET`, one rule a line, and the
// `:CHAIN POLICY [packets:bytes]` declarations at the top of a table.
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Rule, Verdict } from '../model/policy';
import type { LineChange, RulePrinter } from './printer';
import { lineText } from './text';

const APPEND = /^(\s*(?:-A|--append)\s+\S+)/;

export const iptablesPrinter: RulePrinter = {
  acceptEstablished(near) {
    return `-A ${near.chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`;
  },

  acceptLoopback(near) {
    return `-A ${near.chain} -i lo -j ACCEPT`;
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
