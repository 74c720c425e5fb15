// An index over the boxes of one chain's rules, so that "which earlier rules can overlap this set"
// and "does an earlier rule contain this point" cost about log n plus the answer instead of a scan:
// the anomaly checks ask once per rule, which keeps a 100k-rule chain near n log n.
//
// It is a k-d interval tree: each node splits one dimension at a value; boxes entirely below go
// left, entirely above go right, and the boxes that straddle the value (a rule with no source
// address straddles every address split) form a nested tree over the other dimensions, so broad
// rules cost no more than narrow ones.
//
// It is built on every analysis, so building is kept cheap: the boxes stay where they are and the
// tree orders their numbers in one typed array (each node owns a slice of it, in rule order). Most
// of the 16 dimensions are the same in every rule of a chain: a sample of the boxes tells which
// ones differ, and only those are considered for a split and compared first (so a box that misses
// is found out early; every dimension is still compared).
import type { Box } from '../packets/boxes';

interface Node {
  /** The slice of `order` this node's boxes occupy, in rule order. */
  start: number;
  end: number;
  minRule: number;
  /** -1 for a leaf, whose boxes are checked one by one. */
  dim: number;
  split: number;
  left: Node | undefined;
  right: Node | undefined;
  /** Boxes whose interval in `dim` contains `split`, indexed over the remaining dimensions. */
  straddling: Node | undefined;
}

/** Boxes a leaf holds: scanning a few dozen costs less than the nodes (and their splits) that would replace them. */
const LEAF = 32;
/** Boxes sampled to choose a node's split. */
const SAMPLE = 32;
/** Boxes `partition` sorts out per call of its loop. */
const PIECE = 256;

export class RuleIndex {
  /** Every box, and the rule it belongs to (ascending). */
  private readonly boxes: Box[];
  private readonly ruleOf: Int32Array;
  /** Box numbers, arranged by the tree. */
  private readonly order: Int32Array;
  /** Every dimension, those in which sampled boxes differ first: the order boxes are compared in. */
  private readonly dims: number[];
  private readonly root: Node | undefined;

  /** `boxes[i]` are the boxes of rule i (by position in the chain). */
  constructor(boxes: readonly (readonly Box[])[]) {
    // Every field is set on every path, in one order: the methods then see one object shape.
    const n = countBoxes(boxes);
    const all = new Array<Box>(n);
    this.boxes = all;
    this.ruleOf = new Int32Array(n);
    this.order = new Int32Array(n);
    flatten(boxes, all, this.ruleOf, this.order);
    const varying = varyingDimensions(all);
    this.dims = varying.concat(otherDimensions(all, varying));
    this.root = n ? new TreeBuilder(all, this.ruleOf, this.order, varying).build(0, n, 0) : undefined;
  }

  /** Whether a box of some rule with index < before contains the point. */
  covers(point: readonly number[], before: number): boolean {
    return !!this.root && this.pointIn(this.root, point, before);
  }

  /** The first rule with a box that contains the point, or undefined: covers(p, before) is `firstCovering(p) < before`. */
  firstCovering(point: readonly number[]): number | undefined {
    const box: Box = new Array<number>(2 * point.length);
    for (let d = 0; d < point.length; d++) box[2 * d] = box[2 * d + 1] = point[d];
    return this.container(box, Infinity);
  }

  /** The first rule (index < before) with a box that contains all of `box`, or undefined. */
  container(box: Box, before: number): number | undefined {
    if (!this.root) return undefined;
    const r = this.firstContainer(this.root, box, before);
    return r < before ? r : undefined;
  }

  /**
   * Rules with index < before that have a box meeting one of `query`, ascending, each once;
   * undefined when there are more than `limit` (the caller then claims nothing).
   */
  query(query: readonly Box[], before: number, limit = Infinity): number[] | undefined {
    const found = new Set<number>();
    if (!this.root) return [];
    for (const q of query) if (!this.visit(this.root, q, before, found, limit)) return undefined;
    return [...found].sort((a, b) => a - b);
  }

  /** Whether box i contains the point. */
  private holdsPoint(i: number, p: readonly number[]): boolean {
    const b = this.boxes[i];
    const dims = this.dims;
    for (let k = 0; k < dims.length; k++) {
      const d = dims[k];
      if (p[d] < b[2 * d] || p[d] > b[2 * d + 1]) return false;
    }
    return true;
  }

  /** Whether box i contains q. */
  private holdsBox(i: number, q: Box): boolean {
    const b = this.boxes[i];
    const dims = this.dims;
    for (let k = 0; k < dims.length; k++) {
      const d = dims[k];
      if (q[2 * d] < b[2 * d] || q[2 * d + 1] > b[2 * d + 1]) return false;
    }
    return true;
  }

  /** Whether box i meets q. */
  private meets(i: number, q: Box): boolean {
    const b = this.boxes[i];
    const dims = this.dims;
    for (let k = 0; k < dims.length; k++) {
      const d = dims[k];
      if (q[2 * d] > b[2 * d + 1] || q[2 * d + 1] < b[2 * d]) return false;
    }
    return true;
  }

  private pointIn(node: Node, p: readonly number[], before: number): boolean {
    if (node.minRule >= before) return false;
    if (node.dim < 0) {
      for (let k = node.start; k < node.end; k++) {
        const i = this.order[k];
        if (this.ruleOf[i] >= before) break; // in rule order
        if (this.holdsPoint(i, p)) return true;
      }
      return false;
    }
    if (node.straddling && this.pointIn(node.straddling, p, before)) return true;
    const v = p[node.dim];
    if (v < node.split && node.left) return this.pointIn(node.left, p, before);
    if (v > node.split && node.right) return this.pointIn(node.right, p, before);
    return false;
  }

  /** The smallest rule index below `before` of a box containing `q` (Infinity when none). */
  private firstContainer(node: Node, q: Box, before: number): number {
    if (node.minRule >= before) return Infinity;
    if (node.dim < 0) {
      for (let k = node.start; k < node.end; k++) {
        const i = this.order[k];
        if (this.ruleOf[i] >= before) break;
        if (this.holdsBox(i, q)) return this.ruleOf[i];
      }
      return Infinity;
    }
    const d = node.dim;
    let best = node.straddling ? this.firstContainer(node.straddling, q, before) : Infinity;
    // A box that contains q lies on q's side of the split, or straddles it.
    if (q[2 * d + 1] < node.split && node.left) best = Math.min(best, this.firstContainer(node.left, q, Math.min(before, best)));
    else if (q[2 * d] > node.split && node.right) best = Math.min(best, this.firstContainer(node.right, q, Math.min(before, best)));
    return best;
  }

  private visit(node: Node, q: Box, before: number, found: Set<number>, limit: number): boolean {
    if (node.minRule >= before) return true;
    if (node.dim < 0) {
      for (let k = node.start; k < node.end; k++) {
        const i = this.order[k];
        if (this.ruleOf[i] >= before) break;
        if (this.meets(i, q)) found.add(this.ruleOf[i]);
      }
      return found.size <= limit;
    }
    const d = node.dim;
    if (node.straddling && !this.visit(node.straddling, q, before, found, limit)) return false;
    if (node.left && q[2 * d] < node.split && !this.visit(node.left, q, before, found, limit)) return false;
    if (node.right && q[2 * d + 1] > node.split && !this.visit(node.right, q, before, found, limit)) return false;
    return true;
  }
}

function countBoxes(boxes: readonly (readonly Box[])[]): number {
  let n = 0;
  for (let rule = 0; rule < boxes.length; rule++) n += boxes[rule].length;
  return n;
}

/**
 * Writes the boxes of all rules into one list, with the rule of each and the identity order.
 * (It returns nothing: an object made after a hot loop made the optimised code bail out.)
 */
function flatten(boxes: readonly (readonly Box[])[], all: Box[], ruleOf: Int32Array, order: Int32Array): void {
  let i = 0;
  for (let rule = 0; rule < boxes.length; rule++) {
    const bs = boxes[rule];
    for (let k = 0; k < bs.length; k++, i++) {
      all[i] = bs[k];
      ruleOf[i] = rule;
      order[i] = i;
    }
  }
}

/** Boxes sampled to tell which dimensions differ: a dimension that only a rare rule narrows is not worth a split. */
const DIMENSION_SAMPLE = 64;

/** The dimensions in which sampled boxes differ, ascending. */
function varyingDimensions(boxes: readonly Box[]): number[] {
  const varying: number[] = [];
  if (boxes.length === 0) return varying;
  const first = boxes[0];
  const step = Math.max(1, Math.floor(boxes.length / DIMENSION_SAMPLE));
  for (let lo = 0; lo < first.length; lo += 2) {
    let i = step;
    while (i < boxes.length && boxes[i][lo] === first[lo] && boxes[i][lo + 1] === first[lo + 1]) i += step;
    if (i < boxes.length) varying.push(lo >> 1);
  }
  return varying;
}

function otherDimensions(boxes: readonly Box[], varying: readonly number[]): number[] {
  const other: number[] = [];
  if (boxes.length) for (let d = 0; d < boxes[0].length >> 1; d++) if (!varying.includes(d)) other.push(d);
  return other;
}

/** Builds the tree by partitioning slices of `order` in place (stably, so every slice stays in rule order). */
class TreeBuilder {
  /** Scratch for partitioning: the straddling and the right boxes of the slice being split. */
  private readonly middle: Int32Array;
  private readonly high: Int32Array;
  private readonly centres = new Float64Array(SAMPLE);

  constructor(private readonly boxes: Box[], private readonly ruleOf: Int32Array, private readonly order: Int32Array, private readonly varying: readonly number[]) {
    this.middle = new Int32Array(order.length);
    this.high = new Int32Array(order.length);
  }

  /** `used` is a bit mask of the dimensions already split by the straddling chain above. */
  build(start: number, end: number, used: number): Node {
    const node: Node = { start, end, minRule: this.ruleOf[this.order[start]], dim: -1, split: 0, left: undefined, right: undefined, straddling: undefined };
    if (end - start <= LEAF) return node;
    const dim = this.chooseSplit(start, end, used);
    if (dim < 0) return node;
    const split = this.chosenSplit;
    this.partition(start, end, dim, split);
    const { nLow, nMiddle } = this;
    if (nMiddle === end - start) return node;
    node.dim = dim;
    node.split = split;
    const mid = start + nLow;
    const high = mid + nMiddle;
    if (nLow) node.left = this.build(start, mid, used);
    if (nMiddle) node.straddling = this.build(mid, high, used | (1 << dim));
    if (high < end) node.right = this.build(high, end, used);
    return node;
  }

  /** Set by `partition`: how many boxes go below the split, straddle it, go above it. */
  private nLow = 0;
  private nMiddle = 0;
  private nHigh = 0;

  /**
   * Orders the slice as [below split | straddling | above split], each part in its old order.
   * It works in pieces of PIECE boxes: a loop over thousands of boxes in one call was compiled while
   * running, before the code after it had ever run, and that code then bailed out on every call.
   */
  private partition(start: number, end: number, dim: number, split: number): void {
    this.nLow = 0;
    this.nMiddle = 0;
    this.nHigh = 0;
    for (let from = start; from < end; from += PIECE) this.sortOut(start, from, Math.min(end, from + PIECE), dim, split);
    this.moveBack(start);
  }

  /** Sorts boxes order[from..to) of the slice at `start` out: low ones to its front, the others aside. */
  private sortOut(start: number, from: number, to: number, dim: number, split: number): void {
    const { order, boxes, middle, high } = this;
    let { nLow, nMiddle, nHigh } = this;
    for (let k = from; k < to; k++) {
      const i = order[k];
      const b = boxes[i];
      if (b[2 * dim + 1] < split) order[start + nLow++] = i;
      else if (b[2 * dim] > split) high[nHigh++] = i;
      else middle[nMiddle++] = i;
    }
    this.nLow = nLow;
    this.nMiddle = nMiddle;
    this.nHigh = nHigh;
  }

  /** Puts the boxes set aside back after the low ones: straddling, then high. */
  private moveBack(start: number): void {
    const { order, middle, high, nMiddle } = this;
    const at = start + this.nLow;
    const n = nMiddle + this.nHigh;
    for (let k = 0; k < n; k++) order[at + k] = k < nMiddle ? middle[k] : high[k - nMiddle];
  }

  /** Set by `chooseSplit` along with the dimension it returns. */
  private chosenSplit = 0;

  /**
   * The dimension (or -1) and value (in `chosenSplit`) that leave the fewest sampled boxes
   * straddling, split at the median of their centres.
   */
  private chooseSplit(start: number, end: number, used: number): number {
    const { order, boxes, centres } = this;
    const step = Math.max(1, Math.floor((end - start) / SAMPLE));
    const count = Math.min(SAMPLE, Math.ceil((end - start) / step));
    let bestDim = -1;
    let bestSeparated = 0;
    for (let k = 0; k < this.varying.length; k++) {
      const d = this.varying[k];
      if (used & (1 << d)) continue;
      const first = boxes[order[start]];
      // A dimension in which every sampled box is the same cannot separate anything.
      let varies = false;
      for (let s = 1; s < count && !varies; s++) {
        const b = boxes[order[start + s * step]];
        varies = b[2 * d] !== first[2 * d] || b[2 * d + 1] !== first[2 * d + 1];
      }
      if (!varies) continue;
      for (let s = 0; s < count; s++) {
        const b = boxes[order[start + s * step]];
        centres[s] = Math.floor((b[2 * d] + b[2 * d + 1]) / 2);
      }
      const split = nthSmallest(centres, count, count >> 1);
      let separated = 0;
      for (let s = 0; s < count; s++) {
        const b = boxes[order[start + s * step]];
        if (b[2 * d + 1] < split || b[2 * d] > split) separated++;
      }
      if (separated > bestSeparated) {
        bestDim = d;
        bestSeparated = separated;
        this.chosenSplit = split;
      }
    }
    return bestDim;
  }
}

/** The k-th smallest (0-based) of xs[0..n), by quickselect; reorders xs. */
function nthSmallest(xs: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i] < pivot) i++;
      while (xs[j] > pivot) j--;
      if (i <= j) {
        const t = xs[i];
        xs[i] = xs[j];
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k];
  }
  return xs[k];
}
