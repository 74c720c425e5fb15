// Fixes written in nftables syntax: rules are statements inside `chain NAME { ... }`, a base
// chain's policy is `policy drop;` in its `type ... hook ...` line.
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Rule, Verdict } from '../model/policy';
import type { LineChange, RulePrinter } from './printer';
import { lineText } from './text';

function indent(line: string): string {
  return /^\s*/.exec(line)![0];
}

export const nftablesPrinter: RulePrinter = {
  acceptEstablished(_near: Rule, nearLine: string) {
    return `${indent(nearLine)}ct state established,related accept`;
  },

  acceptLoopback(_near: Rule, nearLine: string) {
    return `${indent(nearLine)}iifname "lo" accept`;
  },

  narrowSource(rule, line, cidr): LineChange | undefined {
    const src = rule.conditions.find((c) => c.field === 'src');
    const v6 = cidr.includes(':');
    if (src) {
      if (src.negate || !src.range || src.range.start.line !== src.range.end.line || src.range.start.line !== rule.range.start.line) return undefined;
      // Only a plain address token can be replaced in place; a set (`{ ... }`, `@name`) cannot.
      const token = line.slice(src.range.start.character, src.range.end.character);
      if (!/^[0-9a-fA-F.:/]+$/.test(token)) return undefined;
      return { start: src.range.start.character, end: src.range.end.character, text: cidr };
    }
    const at = rule.range.start.line === rule.range.end.line ? rule.range.start.character : indent(line).length;
    return { start: at, end: at, text: `${v6 ? 'ip6' : 'ip'} saddr ${cidr} ` };
  },

  setPolicy(doc: TextDocument, chain: Chain, verdict: Verdict): TextEdit | undefined {
    if (!chain.policy) return undefined;
    const from = (chain.policyRange ?? chain.range).start.line;
    // The policy sits in the chain's first lines (`type filter hook input priority 0; policy accept;`).
    for (let line = from; line < Math.min(doc.lineCount, from + 5); line++) {
      const text = lineText(doc, line);
      const m = /\bpolicy\s+(accept|drop)\b/.exec(text);
      if (m) {
        const start = m.index + m[0].length - m[1].length;
        return { range: { start: { line, character: start }, end: { line, character: start + m[1].length } }, newText: verdict };
      }
      if (line > from && /^\s*\}/.test(text)) break;
    }
    // A base chain without an explicit policy: add one after its `type ... hook ...;` statement.
    for (let line = from; line < Math.min(doc.lineCount, from + 5); line++) {
      const text = lineText(doc, line);
      const m = /\btype\s+\w+\s+hook\s+\w+[^;]*;/.exec(text);
      if (m) {
        const at = m.index + m[0].length;
        return { range: { start: { line, character: at }, end: { line, character: at } }, newText: ` policy ${verdict};` };
      }
    }
    return undefined;
  },

  policyFor(verdict) {
    return verdict === 'reject' ? 'drop' : verdict;
  },
};
