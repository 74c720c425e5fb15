// Applies LSP text edits to a string, as an editor would: all ranges refer to the original text,
// edits are applied from the last to the first, snippet edits with their placeholders' defaults.
import type { TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';

interface SnippetEdit { range: TextEdit['range']; snippet: { kind: 'snippet'; value: string } }

function offsetAt(text: string, pos: { line: number; character: number }): number {
  let offset = 0;
  for (let l = 0; l < pos.line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  const lineEnd = text.indexOf('\n', offset);
  const end = lineEnd < 0 ? text.length : lineEnd > 0 && text[lineEnd - 1] === '\r' ? lineEnd - 1 : lineEnd;
  return Math.min(offset + pos.character, end);
}

/** `${1:default}` → `default`, `$1`/`$0` → ``, `\$` → `$`. */
export function snippetText(s: string): string {
  return s.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '').replace(/\\([$}\\])/g, '$1');
}

export function applyTextEdits(text: string, edits: readonly (TextEdit | SnippetEdit)[]): string {
  const resolved = edits.map((e) => ({
    start: offsetAt(text, e.range.start),
    end: offsetAt(text, e.range.end),
    newText: 'snippet' in e ? snippetText(e.snippet.value) : e.newText,
  }));
  // Stable for equal starts: earlier edits in the list go first in the result.
  const order = resolved.map((e, i) => ({ ...e, i })).sort((a, b) => b.start - a.start || b.i - a.i);
  for (let k = 1; k < order.length; k++) {
    if (order[k].end > order[k - 1].start) throw new Error('overlapping edits');
  }
  let out = text;
  for (const e of order) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

/** The edits of a workspace edit for one document (documentChanges or changes). */
export function editsFor(edit: WorkspaceEdit, uri: string): (TextEdit | SnippetEdit)[] {
  const out: (TextEdit | SnippetEdit)[] = [];
  for (const dc of edit.documentChanges ?? []) {
    if ('textDocument' in dc && dc.textDocument.uri === uri) out.push(...(dc.edits as (TextEdit | SnippetEdit)[]));
  }
  out.push(...(edit.changes?.[uri] ?? []));
  return out;
}
