// An index over the boxes of one chain's rules, so that "which earlier rules can overlap this set"
// and "does an earlier rule contain this point" cost about log n plus the answer instead of a scan:
// the anomaly checks ask once per rule, which keeps a 100k-rule chain near n log n.
//
// It is a k-d interval tree: each node splits one dimension at a value; boxes entirely below go
// left, entirely above go right, and the boxes that straddle the value (a rule with no source
// address straddles every address split) form a nested tree over the other dimensions, so broad
// rules cost no more than narrow ones.
import type { Box } from '../packets/boxes';
import { boxesIntersect } from '../packets/boxes';

interface Item { box: Box; rule: number }

interface Node {
  minRule: number;
  /** Leaf: items checked one by one, in rule order. */
  items?: Item[];
  dim?: number;
  split?: number;
  left?: Node;
  right?: Node;
  /** Items whose interval in `dim` contains `split`, indexed over the remaining dimensions. */
  straddling?: Node;
}

const LEAF = 12;
const SAMPLE = 48;

export class RuleIndex {
  private readonly root: Node | undefined;

  /** `boxes[i]` are the boxes of rule i (by position in the chain). */
  constructor(boxes: readonly (readonly Box[])[]) {
    const items: Item[] = [];
    boxes.forEach((bs, rule) => bs.forEach((box) => items.push({ box, rule })));
    this.root = items.length ? build(items, 0) : undefined;
  }

  /** Whether a box of some rule with index < before contains the point. */
  covers(point: readonly number[], before: number): boolean {
    return !!this.root && pointIn(this.root, point, before);
  }

  /** The first rule (index < before) with a box that contains all of `box`, or undefined. */
  container(box: Box, before: number): number | undefined {
    if (!this.root) return undefined;
    const r = firstContainer(this.root, box, before);
    return r < before ? r : undefined;
  }

  /**
   * Rules with index < before that have a box meeting one of `query`, ascending, each once;
   * undefined when there are more than `limit` (the caller then claims nothing).
   */
  query(query: readonly Box[], before: number, limit = Infinity): number[] | undefined {
    const found = new Set<number>();
    if (!this.root) return [];
    for (const q of query) if (!visit(this.root, q, before, found, limit)) return undefined;
    return [...found].sort((a, b) => a - b);
  }
}

function pointIn(node: Node, p: readonly number[], before: number): boolean {
  if (node.minRule >= before) return false;
  if (node.items) {
    outer: for (const it of node.items) {
      if (it.rule >= before) break; // items are in rule order
      const b = it.box;
      for (let d = 0; d < p.length; d++) if (p[d] < b[2 * d] || p[d] > b[2 * d + 1]) continue outer;
      return true;
    }
    return false;
  }
  const v = p[node.dim!];
  const split = node.split!;
  if (node.straddling && pointIn(node.straddling, p, before)) return true;
  if (v < split && node.left) return pointIn(node.left, p, before);
  if (v > split && node.right) return pointIn(node.right, p, before);
  return false;
}

/** The smallest rule index below `before` of an item containing `q` (Infinity when none). */
function firstContainer(node: Node, q: Box, before: number): number {
  if (node.minRule >= before) return Infinity;
  if (node.items) {
    outer: for (const it of node.items) {
      if (it.rule >= before) break;
      const b = it.box;
      for (let i = 0; i < q.length; i += 2) if (q[i] < b[i] || q[i + 1] > b[i + 1]) continue outer;
      return it.rule;
    }
    return Infinity;
  }
  const d = node.dim!;
  const split = node.split!;
  let best = node.straddling ? firstContainer(node.straddling, q, before) : Infinity;
  // A box that contains q lies on q's side of the split, or straddles it.
  if (q[2 * d + 1] < split && node.left) best = Math.min(best, firstContainer(node.left, q, Math.min(before, best)));
  else if (q[2 * d] > split && node.right) best = Math.min(best, firstContainer(node.right, q, Math.min(before, best)));
  return best;
}

function visit(node: Node, q: Box, before: number, found: Set<number>, limit: number): boolean {
  if (node.minRule >= before) return true;
  if (node.items) {
    for (const it of node.items) {
      if (it.rule >= before) break;
      if (boxesIntersect(it.box, q)) found.add(it.rule);
    }
    return found.size <= limit;
  }
  const d = node.dim!;
  const split = node.split!;
  if (node.straddling && !visit(node.straddling, q, before, found, limit)) return false;
  if (node.left && q[2 * d] < split && !visit(node.left, q, before, found, limit)) return false;
  if (node.right && q[2 * d + 1] > split && !visit(node.right, q, before, found, limit)) return false;
  return true;
}

function leaf(items: Item[]): Node {
  items.sort((a, b) => a.rule - b.rule);
  return { minRule: items.length ? items[0].rule : Infinity, items };
}

/** `used` is a bit mask of the dimensions already split by the straddling chain above. */
function build(items: Item[], used: number): Node {
  if (items.length <= LEAF) return leaf(items);
  const choice = chooseSplit(items, used);
  if (!choice) return leaf(items);
  const { dim, split } = choice;
  const lo = 2 * dim;
  const left: Item[] = [];
  const right: Item[] = [];
  const straddling: Item[] = [];
  for (const it of items) {
    if (it.box[lo + 1] < split) left.push(it);
    else if (it.box[lo] > split) right.push(it);
    else straddling.push(it);
  }
  if (straddling.length === items.length) return leaf(items);
  const node: Node = { minRule: Infinity, dim, split };
  if (left.length) node.left = build(left, used);
  if (right.length) node.right = build(right, used);
  if (straddling.length) node.straddling = build(straddling, used | (1 << dim));
  node.minRule = Math.min(node.left?.minRule ?? Infinity, node.right?.minRule ?? Infinity, node.straddling?.minRule ?? Infinity);
  return node;
}

/** The dimension and value that leave the fewest sampled boxes straddling, balanced by a median. */
function chooseSplit(items: Item[], used: number): { dim: number; split: number } | undefined {
  const dims = items[0].box.length >> 1;
  const step = Math.max(1, Math.floor(items.length / SAMPLE));
  const sample: Box[] = [];
  for (let i = 0; i < items.length && sample.length < SAMPLE; i += step) sample.push(items[i].box);
  const centres = new Float64Array(sample.length);
  let best: { dim: number; split: number; separated: number } | undefined;
  for (let d = 0; d < dims; d++) {
    if (used & (1 << d)) continue;
    const lo = 2 * d;
    // A dimension in which every sampled box is the same cannot separate anything.
    let varies = false;
    for (const b of sample) if (b[lo] !== sample[0][lo] || b[lo + 1] !== sample[0][lo + 1]) { varies = true; break; }
    if (!varies) continue;
    for (let i = 0; i < sample.length; i++) centres[i] = Math.floor((sample[i][lo] + sample[i][lo + 1]) / 2);
    centres.sort();
    const split = centres[centres.length >> 1];
    let separated = 0;
    for (const b of sample) if (b[lo + 1] < split || b[lo] > split) separated++;
    if (!best || separated > best.separated) best = { dim: d, split, separated };
  }
  return best && best.separated > 0 ? best : undefined;
}
