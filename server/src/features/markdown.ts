// Small Markdown helpers for hovers: escaping, table cells, links to a line of the document.

/** Escapes the characters Markdown would read as formatting. */
export function md(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+!|<>~])/g, '\\$1');
}

/** A table cell: escaped, single line. */
export function cell(text: string): string {
  return md(text.replace(/\s*\n\s*/g, ' '));
}

/** `[line 12](file:///x.rules#L12)`: VS Code opens the document at that line. */
export function lineLink(uri: string, line0: number): string {
  return `[line ${line0 + 1}](${uri}#L${line0 + 1})`;
}

export function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text}${fence}`;
}

/** Thousands separators for sizes like 16,777,216 (bigint-safe). */
export function groupDigits(n: string): string {
  return n.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
