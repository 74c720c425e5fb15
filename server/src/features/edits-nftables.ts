// Fixes written in nftables syntax: rules are statements inside `chain NAME { ... }`, a base
// chain's policy is `policy drop;` in its `type ... hook ...` line.
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Chain, Verdict } from '../model/policy';
import type { LineChange, RulePrinter } from './printer';
import { insertBefore } from './line-edits';
import { indentOf, lineText } from './text';

/** One level deeper than `indent`, in the file's own unit. */
function deeper(indent: string): string {
  return indent + (indent.includes('\t') ? '\t' : '    ');
}

export const nftablesPrinter: RulePrinter = {
  acceptEstablished(_chain, indent) {
    return `${indent}ct state established,related accept`;
  },

  acceptLoopback(_chain, indent) {
    return `${indent}iifname "lo" accept`;
  },

  acceptTcpFrom(_chain, indent, port, cidr) {
    return `${indent}${cidr.includes(':') ? 'ip6' : 'ip'} saddr ${cidr} tcp dport ${port} accept`;
  },

  firstRuleSlot(doc, chain) {
    // After the `type ... hook ... policy ...;` line of a base chain, or after `chain NAME {`.
    const at = (chain.policyRange ?? chain.range).start.line;
    const text = lineText(doc, at);
    if (text.includes('}')) return undefined; // the chain is written on one line
    const opens = /^\s*chain\s.*\{\s*$/.test(text);
    if (!opens && !/^\s*(type|policy)\b/.test(text)) return undefined;
    return { before: at + 1, indent: opens ? deeper(indentOf(text)) : indentOf(text) };
  },

  declareChain(doc, name, from) {
    if (!from) return undefined;
    const at = from.range.start.line;
    const text = lineText(doc, at);
    // Inside a table block: an empty chain block before the referring chain's.
    const block = /^(\s*)chain\s/.exec(text);
    if (block) return insertBefore(doc, at, [`${block[1]}chain ${name} {`, `${block[1]}}`]);
    // Declared by a command: another command before it.
    const command = /^(\s*)(add|create)\s+chain\s+(\S+\s+\S+)\s/.exec(text);
    if (command && !command[3].includes('{')) return insertBefore(doc, at, [`${command[1]}add chain ${command[3]} ${name}`]);
    return undefined;
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
    const at = rule.range.start.line === rule.range.end.line ? rule.range.start.character : indentOf(line).length;
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
