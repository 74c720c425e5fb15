// Whole-line edits that touch nothing but the lines involved: delete, insert, move. Inserted lines
// get the file's own line ending, and a last line without a newline is handled, so applying an
// edit never reformats or joins other lines.
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { eolOf, lineText } from './text';

/** Lines [first, last] with their line ending; the last line of a file loses the ending before it. */
export function deleteLines(doc: TextDocument, first: number, last: number): TextEdit {
  if (last + 1 < doc.lineCount) return { range: { start: { line: first, character: 0 }, end: { line: last + 1, character: 0 } }, newText: '' };
  // The last line has no line ending after it: take the one before it instead.
  const end = { line: last, character: lineText(doc, last).length };
  if (first === 0) return { range: { start: { line: 0, character: 0 }, end }, newText: '' };
  return { range: { start: { line: first - 1, character: lineText(doc, first - 1).length }, end }, newText: '' };
}

/** New lines before `line`. */
export function insertBefore(doc: TextDocument, line: number, lines: readonly string[]): TextEdit {
  const eol = eolOf(doc);
  return { range: { start: { line, character: 0 }, end: { line, character: 0 } }, newText: lines.map((l) => l + eol).join('') };
}

/** New lines after `line` (after its line ending, or with one added when it is the file's last). */
export function insertAfter(doc: TextDocument, line: number, lines: readonly string[]): TextEdit {
  const eol = eolOf(doc);
  if (line + 1 < doc.lineCount) return insertBefore(doc, line + 1, lines);
  const at = { line, character: lineText(doc, line).length };
  return { range: { start: at, end: at }, newText: lines.map((l) => eol + l).join('') };
}

/** Moves lines [first, last] to just after line `after` (below) or before line `before` (above). */
export function moveLines(doc: TextDocument, first: number, last: number, to: { after: number } | { before: number }): TextEdit[] {
  const lines: string[] = [];
  for (let l = first; l <= last; l++) lines.push(lineText(doc, l));
  const insert = 'after' in to ? insertAfter(doc, to.after, lines) : insertBefore(doc, to.before, lines);
  return [insert, deleteLines(doc, first, last)];
}

/** Replaces one line's text (not its ending). */
export function replaceLine(doc: TextDocument, line: number, text: string): TextEdit {
  return { range: { start: { line, character: 0 }, end: { line, character: lineText(doc, line).length } }, newText: text };
}
