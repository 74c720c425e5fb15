// A bounding-volume hierarchy over the boxes of one chain's rules, so that "which earlier rules can
// overlap this set" costs about log n plus the answer instead of a scan: the anomaly checks ask it
// once per rule, which keeps a 100k-rule chain near n log n.
import type { Box } from '../packets/boxes';
import { boxesIntersect } from '../packets/boxes';

interface Item { box: Box; rule: number }
interface Node {
  bounds: Float64Array;
  minRule: number;
  left?: Node;
  right?: Node;
  items?: Item[];
}

const LEAF = 8;

export class RuleIndex {
  private readonly root: Node | undefined;

  /** `boxes[i]` are the boxes of rule i (by position in the chain). */
  constructor(boxes: readonly (readonly Box[])[]) {
    const items: Item[] = [];
    boxes.forEach((bs, rule) => bs.forEach((box) => items.push({ box, rule })));
    this.root = items.length ? build(items) : undefined;
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

function visit(node: Node, q: Box, before: number, found: Set<number>, limit: number): boolean {
  if (node.minRule >= before || !boxesIntersect(node.bounds, q)) return true;
  if (node.items) {
    for (const it of node.items) if (it.rule < before && boxesIntersect(it.box, q)) found.add(it.rule);
    return found.size <= limit;
  }
  return visit(node.left!, q, before, found, limit) && visit(node.right!, q, before, found, limit);
}

function build(items: Item[]): Node {
  const n = items[0].box.length;
  const bounds = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    bounds[i] = Infinity;
    bounds[i + 1] = -Infinity;
  }
  let minRule = Infinity;
  for (const { box, rule } of items) {
    for (let i = 0; i < n; i += 2) {
      if (box[i] < bounds[i]) bounds[i] = box[i];
      if (box[i + 1] > bounds[i + 1]) bounds[i + 1] = box[i + 1];
    }
    if (rule < minRule) minRule = rule;
  }
  if (items.length <= LEAF) return { bounds, minRule, items };
  // Split on the dimension whose box centres spread widest relative to its extent.
  let best = -1;
  let bestSpread = 0;
  for (let i = 0; i < n; i += 2) {
    const extent = bounds[i + 1] - bounds[i];
    if (extent <= 0) continue;
    let lo = Infinity;
    let hi = -Infinity;
    for (const { box } of items) {
      const c = (box[i] + box[i + 1]) / 2;
      if (c < lo) lo = c;
      if (c > hi) hi = c;
    }
    const spread = (hi - lo) / extent;
    if (spread > bestSpread) {
      bestSpread = spread;
      best = i;
    }
  }
  if (best < 0) {
    // All boxes alike in every dimension: split by rule order so the minRule pruning still works.
    items.sort((a, b) => a.rule - b.rule);
  } else {
    const d = best;
    items.sort((a, b) => a.box[d] + a.box[d + 1] - (b.box[d] + b.box[d + 1]));
  }
  const mid = items.length >> 1;
  return { bounds, minRule, left: build(items.slice(0, mid)), right: build(items.slice(mid)) };
}
