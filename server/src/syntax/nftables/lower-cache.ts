// Lowered rules kept from one analysis of a document to the next (the language server re-analyses
// after every edit), so that an edit lowers again only the rules it touched.
//
// A rule is kept only when its lowering read nothing but its own tokens and its table's family:
// no named set or map, no variable, no chain or object lookup, no anonymous chain, and no
// problem reported (evaluate.ts decides; rules.ts says what the rule looked up). Its key is then
// its table, the column it starts at and its source text. The same key on another line stands
// for the same conditions and actions with every range moved by the line difference: the text,
// and so the layout of every token inside it, is the same.
import type { Action, Condition, Range } from '../../model/policy';
import type { LoweredRule } from './state';

type Variants = LoweredRule['variants'];

interface Kept {
  /** The line the rule started on when its variants were made. */
  line: number;
  text: string;
  variants: Variants;
}

export interface LowerCache {
  /** What the previous analysis kept. */
  kept: Map<string, Kept>;
  /** What this analysis uses: it replaces `kept` at the end, so the cache never outgrows the document. */
  next: Map<string, Kept>;
}

export function newLowerCache(): LowerCache {
  return { kept: new Map(), next: new Map() };
}

export function lowerKey(tableKey: string, column: number, source: string): string {
  return `${tableKey}\u0000${column}\u0000${source}`;
}

/** The kept lowering of `key`, moved to `line`; undefined when there is none. */
export function reuseLowered(cache: LowerCache, key: string, line: number): { text: string; variants: Variants } | undefined {
  const k = cache.next.get(key) ?? cache.kept.get(key);
  if (!k) return undefined;
  const delta = line - k.line;
  const here = delta === 0 ? k : { line, text: k.text, variants: k.variants.map((v) => ({ conditions: v.conditions.map((c) => moveCondition(c, delta)), action: moveAction(v.action, delta) })) };
  cache.next.set(key, here);
  return here;
}

export function keepLowered(cache: LowerCache, key: string, line: number, rule: LoweredRule): void {
  cache.next.set(key, { line, text: rule.text, variants: rule.variants });
}

/** The end of an analysis: what it used is what the next one may reuse. */
export function endLowering(cache: LowerCache): void {
  cache.kept = cache.next;
  cache.next = new Map();
}

function moveRange(r: Range, delta: number): Range {
  return { start: { line: r.start.line + delta, character: r.start.character }, end: { line: r.end.line + delta, character: r.end.character } };
}

function moveCondition(c: Condition, delta: number): Condition {
  const range = c.range && moveRange(c.range, delta);
  if (c.field === 'any') return { ...c, range, alternatives: c.alternatives.map((alt) => alt.map((a) => moveCondition(a, delta))) };
  return { ...c, range };
}

function moveAction(a: Action, delta: number): Action {
  return a.range ? { ...a, range: moveRange(a.range, delta) } : a;
}
