// Per-analysis memo: hovers and code actions ask the same questions of one analysis many times
// (the entries that reach a chain, the explanation of a CIDR). Keyed on the analysis object, so a
// new version of the document starts empty and the old answers go with the old analysis.
import type { DocumentAnalysis } from './document';

const memos = new WeakMap<DocumentAnalysis, Map<string, unknown>>();

/** At most this many answers per analysis, so a long hover session cannot grow without bound. */
const LIMIT = 2_000;

export function memo<T>(doc: DocumentAnalysis, key: string, compute: () => T): T {
  let m = memos.get(doc);
  if (!m) {
    m = new Map();
    memos.set(doc, m);
  }
  if (m.has(key)) return m.get(key) as T;
  const value = compute();
  if (m.size >= LIMIT) m.delete(m.keys().next().value as string);
  m.set(key, value);
  return value;
}
