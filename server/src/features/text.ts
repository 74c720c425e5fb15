// Text helpers shared by the features: lines without their ending, the document's line ending.
import type { TextDocument } from 'vscode-languageserver-textdocument';

/** The text of one line, without its line ending ('' past the end). */
export function lineText(doc: TextDocument, line: number): string {
  if (line < 0 || line >= doc.lineCount) return '';
  const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return text.replace(/\r?\n$/, '');
}

/** The blanks a line starts with: new lines next to it get the same. */
export function indentOf(line: string): string {
  return /^\s*/.exec(line)![0];
}

/** The file's line ending: edits add lines with the same one. */
export function eolOf(doc: TextDocument): string {
  const text = doc.getText();
  const i = text.indexOf('\n');
  return i > 0 && text[i - 1] === '\r' ? '\r\n' : '\n';
}
