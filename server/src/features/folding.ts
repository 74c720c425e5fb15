// Folding: iptables tables (`*filter` .. `COMMIT`) and runs of one chain's rules, nftables blocks
// (`{` .. `}`), and comment blocks in both. Tables and rules come from the policy's ranges, braces
// and comments from the text (a scan that skips strings and comments).
import { FoldingRange, FoldingRangeKind } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { DocumentAnalysis } from './document';

export function foldingRanges(doc: DocumentAnalysis | undefined, text: TextDocument): FoldingRange[] {
  const out: FoldingRange[] = [];
  const src = text.getText();
  const lines = src.split(/\r?\n/);
  commentBlocks(lines, out);
  if (doc?.language === 'nftables' || (!doc && /\{/.test(src))) braces(lines, out);
  if (doc?.language === 'iptables') {
    for (const t of doc.policy.tables) {
      if (t.range.end.line > t.range.start.line) out.push({ startLine: t.range.start.line, endLine: t.range.end.line, kind: FoldingRangeKind.Region });
    }
    ruleRuns(doc, out);
  }
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}

function commentBlocks(lines: string[], out: FoldingRange[]): void {
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#/.test(lines[i])) continue;
    let j = i;
    while (j + 1 < lines.length && /^\s*#/.test(lines[j + 1])) j++;
    if (j > i) out.push({ startLine: i, endLine: j, kind: FoldingRangeKind.Comment });
    i = j;
  }
}

function braces(lines: string[], out: FoldingRange[]): void {
  const open: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let quoted = false;
    for (let k = 0; k < line.length; k++) {
      const ch = line[k];
      if (ch === '"') quoted = !quoted;
      else if (quoted) continue;
      else if (ch === '#') break;
      else if (ch === '{') open.push(i);
      else if (ch === '}') {
        const start = open.pop();
        // The closing line stays visible: fold up to the line before it.
        if (start !== undefined && i - 1 > start) out.push({ startLine: start, endLine: i - 1, kind: FoldingRangeKind.Region });
      }
    }
  }
}

/** Three or more consecutive rules of one chain (`-A INPUT ...` lines) fold as a block. */
function ruleRuns(doc: DocumentAnalysis, out: FoldingRange[]): void {
  const rules = doc.policy.tables.flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules)).sort((a, b) => a.range.start.line - b.range.start.line);
  for (let i = 0; i < rules.length;) {
    let j = i;
    while (j + 1 < rules.length && rules[j + 1].chain === rules[i].chain && rules[j + 1].table === rules[i].table && rules[j + 1].range.start.line <= rules[j].range.end.line + 2) j++;
    if (j - i >= 2) out.push({ startLine: rules[i].range.start.line, endLine: rules[j].range.end.line, kind: FoldingRangeKind.Region });
    i = j + 1;
  }
}
