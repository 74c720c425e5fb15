// Lowered rules kept from one analysis of a document to the next (the language server re-analyses
// after every edit), so that an edit lowers again only the rules it touched.
//
// A rule is kept only when its lowering read nothing but its own tokens and its table's family:
// no named set or map, no variable, no chain or object lookup, no anonymous chain, and no
// problem reported (evaluate.ts decides; rules.ts says what the rule looked up). It is found
// again by its source text, table and starting column. The same rule on another line stands for
// the same conditions and actions with every range moved by the line difference: the text, and
// so the layout of every token inside it, is the same.
//
// A kept rule that stood alone on its line in a chain block is not even read again: the parser
// finds the rest of the line here and skips it, and the evaluator takes the kept lowering.
import type { Action, Condition, Range } from '../../model/policy';
import type { RuleNode } from './ast';
import type { TokKind } from './lexer';
import type { LoweredRule } from './state';

type Variants = LoweredRule['variants'];

export interface KeptRule {
  table: string;
  column: number;
  /** The line the rule started on when `variants` were made. */
  line: number;
  text: string;
  variants: Variants;
  /**
   * One `Rule.key` per variant, made once: the same string objects from one analysis to the next
   * keep their hash, so the compile cache's lookups do not hash long keys again.
   */
  keys: string[];
  comment?: string;
  /**
   * When the rule stood alone on its line in a chain block, read without any problem: its last
   * token (offset from the rule's start). The parser then skips the rule's text (parser.ts).
   */
  wholeLine?: { kind: TokKind; text: string; pos: number };
  /** The analysis that last used it. */
  used: number;
}

export interface LowerCache {
  /** By source text; a few entries when the same text stands in other tables or columns. */
  bySource: Map<string, KeptRule[]>;
  analysis: number;
}

export function newLowerCache(): LowerCache {
  return { bySource: new Map(), analysis: 0 };
}

/** The start of an analysis. */
export function startLowering(cache: LowerCache): void {
  cache.analysis++;
}

/** What was kept for `source` in `table` at `column`, as it was. */
export function findKept(cache: LowerCache, source: string, table: string, column: number): KeptRule | undefined {
  const list = cache.bySource.get(source);
  if (list) for (const k of list) if (k.table === table && k.column === column) return k;
  return undefined;
}

/** The kept lowering of `source` in `table` at `column`, moved to `line`; undefined when there is none. */
export function reuseLowered(cache: LowerCache, source: string, table: string, column: number, line: number, node: RuleNode): KeptRule | undefined {
  const k = findKept(cache, source, table, column);
  if (!k) return undefined;
  // Kept from elsewhere (an `add rule` command) and now alone on a line of a chain block.
  k.wholeLine ??= wholeLineOf(node);
  return reuseKept(cache, k, line);
}

/** A kept rule moved to `line`, used by this analysis. */
export function reuseKept(cache: LowerCache, k: KeptRule, line: number): KeptRule {
  const delta = line - k.line;
  if (delta !== 0) {
    // Fresh objects: the previous analysis may still be read (hovers) while this one is built.
    k.variants = k.variants.map((v) => ({ conditions: v.conditions.map((c) => moveCondition(c, delta)), action: moveAction(v.action, delta) }));
    k.line = line;
  }
  k.used = cache.analysis;
  return k;
}

export function keepLowered(cache: LowerCache, source: string, table: string, column: number, line: number, rule: LoweredRule): KeptRule {
  const base = `${table}\u0000${column}\u0000${source}\u0000`;
  const k: KeptRule = { table, column, line, text: rule.text, variants: rule.variants, keys: rule.variants.map((_, i) => base + i), comment: rule.comment, wholeLine: wholeLineOf(rule.node), used: cache.analysis };
  const list = cache.bySource.get(source);
  if (list) list.push(k);
  else cache.bySource.set(source, [k]);
  return k;
}

/** The end of an analysis: what it did not use goes, so the cache never outgrows the document. */
export function endLowering(cache: LowerCache): void {
  for (const [source, list] of cache.bySource) {
    if (list.every((k) => k.used === cache.analysis)) continue;
    const left = list.filter((k) => k.used === cache.analysis);
    if (left.length) cache.bySource.set(source, left);
    else cache.bySource.delete(source);
  }
}

function wholeLineOf(node: RuleNode): KeptRule['wholeLine'] {
  return node.wholeLine ? { kind: node.last.kind, text: node.last.text, pos: node.last.pos - node.first.pos } : undefined;
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
