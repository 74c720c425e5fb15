// Lowered rules kept from one analysis of a document to the next (the language server re-analyses
// after every edit), so that an edit lowers again only the rules it touched.
//
// A rule is kept only when its lowering read nothing but its own tokens, the defines its variables
// stand for and its table's family: no named set or map, no chain or object lookup, no anonymous
// chain, and no problem reported (evaluate.ts decides; rules.ts says what the rule looked up). It
// is found again by its source text, table, starting column and defines (each one's value and
// place). The same rule on another line stands for the same conditions and actions with every
// range in it moved by the line difference: the text, and so the layout of every token inside it,
// is the same. Ranges in a define (an element written there) stay where they are: the define has
// not moved, or the rule would not be found.
//
// A kept rule that stood alone on its line in a chain block is not even read again: the parser
// finds the rest of the line here and skips it, and the evaluator takes the kept lowering.
import type { Action, Condition, Range } from '../../model/policy';
import type { Define, RuleNode } from './ast';
import type { Cursor } from './cursor';
import type { TokKind } from './lexer';
import type { LoweredRule } from './state';

type Variants = LoweredRule['variants'];

export interface KeptRule {
  table: string;
  column: number;
  /** The defines its variables stand for (definesKey); '' when it names none. */
  defines: string;
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

/** Where a kept rule was, and what it was read with. */
export interface KeptPlace {
  source: string;
  table: string;
  column: number;
  defines: string;
}

/** What was kept for a rule at `at`, as it was. */
export function findKept(cache: LowerCache, at: KeptPlace): KeptRule | undefined {
  const list = cache.bySource.get(at.source);
  if (list) for (const k of list) if (k.table === at.table && k.column === at.column && k.defines === at.defines) return k;
  return undefined;
}

/**
 * The defines a rule's variables stand for, as text: each one's name, value and place, and the
 * defines its value names. undefined when one is in an included file (such rules are not kept).
 */
export function definesKey(vars: readonly Define[], cur: Cursor): string | undefined {
  if (!vars.length) return '';
  let key = '';
  for (const d of vars) {
    const one = defineKey(d, cur);
    if (one === undefined) return undefined;
    key += one;
  }
  return key;
}

const DEFINE_KEYS = new WeakMap<Define, string | null>();

function defineKey(d: Define, cur: Cursor): string | undefined {
  let key = DEFINE_KEYS.get(d);
  if (key === undefined) {
    const { first, last } = d.value;
    const uses = definesKey(d.uses, cur);
    if (first.src !== 0 || last.src !== 0 || uses === undefined) key = null;
    else {
      const at = cur.position(0, first.pos);
      key = `$${d.name}=${cur.sources[0].text.slice(first.pos, last.end)}@${at.line}:${at.character}(${uses});`;
    }
    DEFINE_KEYS.set(d, key);
  }
  return key ?? undefined;
}

/** The kept lowering of the rule at `at`, moved to `line`; undefined when there is none. */
export function reuseLowered(cache: LowerCache, at: KeptPlace, line: number, node: RuleNode): KeptRule | undefined {
  const k = findKept(cache, at);
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
    const move: Move = { delta, line: k.line, column: k.column };
    k.variants = k.variants.map((v) => ({ conditions: v.conditions.map((c) => moveCondition(c, move)), action: moveAction(v.action, move) }));
    k.line = line;
  }
  k.used = cache.analysis;
  return k;
}

export function keepLowered(cache: LowerCache, at: KeptPlace, line: number, rule: LoweredRule): KeptRule {
  const { source, table, column, defines } = at;
  const base = `${table}\u0000${column}\u0000${defines}\u0000${source}\u0000`;
  const k: KeptRule = { table, column, defines, line, text: rule.text, variants: rule.variants, keys: rule.variants.map((_, i) => base + i), comment: rule.comment, wholeLine: wholeLineOf(rule.node), used: cache.analysis };
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

/** `delta` lines down for what is in the rule, which started at `line`, `column`. */
interface Move { delta: number; line: number; column: number }

function moveRange(r: Range, m: Move): Range {
  // Before the rule: in a define, which has not moved.
  if (r.start.line < m.line || (r.start.line === m.line && r.start.character < m.column)) return r;
  return { start: { line: r.start.line + m.delta, character: r.start.character }, end: { line: r.end.line + m.delta, character: r.end.character } };
}

function moveCondition(c: Condition, m: Move): Condition {
  const range = c.range && moveRange(c.range, m);
  if (c.field === 'any') return { ...c, range, alternatives: c.alternatives.map((alt) => alt.map((a) => moveCondition(a, m))) };
  return { ...c, range };
}

function moveAction(a: Action, m: Move): Action {
  return a.range ? { ...a, range: moveRange(a.range, m) } : a;
}
