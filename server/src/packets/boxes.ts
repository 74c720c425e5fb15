// Sets as unions of disjoint boxes over integer interval dimensions.
// Generic over the number of dimensions, so it can be tested against a brute-force model on a tiny
// domain; packet-space.ts gives the dimensions their firewall meaning.
//
// A box is an array of 2*D numbers (plain arrays: typed arrays cost far more to allocate): [lo0, hi0, lo1, hi1, ...], inclusive bounds.
// A set is an array of pairwise-disjoint, non-empty boxes. Functions never mutate their inputs.

export type Box = number[];
export type BoxSet = readonly Box[];

export function dims(b: Box): number {
  return b.length >> 1;
}

export function makeBox(bounds: readonly (readonly [number, number])[]): Box {
  const b: Box = new Array<number>(bounds.length * 2).fill(0);
  for (let d = 0; d < bounds.length; d++) {
    b[2 * d] = bounds[d][0];
    b[2 * d + 1] = bounds[d][1];
  }
  return b;
}

export function boxIsEmpty(b: Box): boolean {
  for (let i = 0; i < b.length; i += 2) if (b[i] > b[i + 1]) return true;
  return false;
}

export function boxesIntersect(a: Box, b: Box): boolean {
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] > b[i + 1] || b[i] > a[i + 1]) return false;
  }
  return true;
}

/** a ⊆ b */
export function boxContains(b: Box, a: Box): boolean {
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] < b[i] || a[i + 1] > b[i + 1]) return false;
  }
  return true;
}

export function boxIntersection(a: Box, b: Box): Box | undefined {
  const r: Box = new Array<number>(a.length);
  for (let i = 0; i < a.length; i += 2) {
    const lo = a[i] > b[i] ? a[i] : b[i];
    const hi = a[i + 1] < b[i + 1] ? a[i + 1] : b[i + 1];
    if (lo > hi) return undefined;
    r[i] = lo;
    r[i + 1] = hi;
  }
  return r;
}

/**
 * a − b as disjoint boxes (at most 2 per dimension). Splits dimensions in index order, so a box whose
 * later dimensions are full stays contiguous in the order the dimensions encode (addresses as words).
 */
export function boxSubtract(a: Box, b: Box, out: Box[]): void {
  if (!boxesIntersect(a, b)) {
    out.push(a);
    return;
  }
  const rest = a.slice();
  for (let i = 0; i < a.length; i += 2) {
    if (rest[i] < b[i]) {
      const piece = rest.slice();
      piece[i + 1] = b[i] - 1;
      out.push(piece);
      rest[i] = b[i];
    }
    if (rest[i + 1] > b[i + 1]) {
      const piece = rest.slice();
      piece[i] = b[i + 1] + 1;
      out.push(piece);
      rest[i + 1] = b[i + 1];
    }
  }
}

export function intersect(a: BoxSet, b: BoxSet): Box[] {
  const out: Box[] = [];
  for (const x of a) {
    for (const y of b) {
      const z = boxIntersection(x, y);
      if (z) out.push(z);
    }
  }
  return out;
}

export function subtract(a: BoxSet, b: BoxSet): Box[] {
  let cur: Box[] = a.slice();
  for (const y of b) {
    if (cur.length === 0) break;
    const next: Box[] = [];
    for (const x of cur) boxSubtract(x, y, next);
    cur = next;
  }
  return cur;
}

export function union(a: BoxSet, b: BoxSet): Box[] {
  return a.concat(subtract(b, a));
}

export function isEmpty(a: BoxSet): boolean {
  return a.length === 0;
}

export function isSubset(a: BoxSet, b: BoxSet): boolean {
  return subtract(a, b).length === 0;
}

export function overlaps(a: BoxSet, b: BoxSet): boolean {
  for (const x of a) for (const y of b) if (boxesIntersect(x, y)) return true;
  return false;
}

export function equals(a: BoxSet, b: BoxSet): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

export function containsPoint(a: BoxSet, p: readonly number[]): boolean {
  outer: for (const x of a) {
    for (let d = 0; d < p.length; d++) {
      if (p[d] < x[2 * d] || p[d] > x[2 * d + 1]) continue outer;
    }
    return true;
  }
  return false;
}

/** Number of points (for tests and for "how big is this part"); exact below 2^53. */
export function size(a: BoxSet): number {
  let total = 0;
  for (const x of a) {
    let n = 1;
    for (let i = 0; i < x.length; i += 2) n *= x[i + 1] - x[i] + 1;
    total += n;
  }
  return total;
}

/**
 * Merges boxes that differ in one dimension only and touch there, until nothing merges.
 * Keeps descriptions short after many subtractions; quadratic, so only for small sets.
 */
export function coalesce(a: BoxSet, limit = 200): Box[] {
  let boxes = a.slice();
  if (boxes.length > limit) return boxes;
  let merged = true;
  while (merged) {
    merged = false;
    outer: for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const m = mergeAdjacent(boxes[i], boxes[j]);
        if (m) {
          boxes = boxes.filter((_, k) => k !== i && k !== j);
          boxes.push(m);
          merged = true;
          break outer;
        }
      }
    }
  }
  return boxes;
}

function mergeAdjacent(a: Box, b: Box): Box | undefined {
  let diff = -1;
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1]) {
      if (diff >= 0) return undefined;
      diff = i;
    }
  }
  if (diff < 0) return a;
  if (a[diff + 1] + 1 === b[diff] || b[diff + 1] + 1 === a[diff]) {
    const m = a.slice();
    m[diff] = Math.min(a[diff], b[diff]);
    m[diff + 1] = Math.max(a[diff + 1], b[diff + 1]);
    return m;
  }
  return undefined;
}
