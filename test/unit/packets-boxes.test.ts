// The box algebra against a brute-force model: on a 3-dimensional domain of 4 values a dimension,
// a set is just a set of 64 points, and every operation must agree with the same operation on those.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Box, coalesce, containsPoint, equals, intersect, isSubset, makeBox, size, subtract, union } from '../../server/src/packets/boxes';

const N = 4; // values per dimension
const DIMS = 3;

const interval = fc.tuple(fc.integer({ min: 0, max: N - 1 }), fc.integer({ min: 0, max: N - 1 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]);
const box = fc.array(interval, { minLength: DIMS, maxLength: DIMS }).map((iv) => makeBox(iv));
// Build sets through union so they satisfy the disjointness invariant.
const boxSet = fc.array(box, { maxLength: 5 }).map((bs) => bs.reduce<Box[]>((acc, b) => union(acc, [b]), []));

function points(set: readonly Box[]): Set<string> {
  const out = new Set<string>();
  for (let x = 0; x < N; x++) for (let y = 0; y < N; y++) for (let z = 0; z < N; z++) {
    if (containsPoint(set, [x, y, z])) out.add(`${x},${y},${z}`);
  }
  return out;
}

function disjoint(set: readonly Box[]): boolean {
  return size(set) === points(set).size;
}

test('union, intersection and difference agree with sets of points', () => {
  fc.assert(fc.property(boxSet, boxSet, (a, b) => {
    const pa = points(a);
    const pb = points(b);
    assert.deepEqual(points(union(a, b)), new Set([...pa, ...pb]));
    assert.deepEqual(points(intersect(a, b)), new Set([...pa].filter((p) => pb.has(p))));
    assert.deepEqual(points(subtract(a, b)), new Set([...pa].filter((p) => !pb.has(p))));
  }), { numRuns: 500 });
});

test('results stay pairwise disjoint, so size counts every point once', () => {
  fc.assert(fc.property(boxSet, boxSet, (a, b) => {
    assert.ok(disjoint(union(a, b)));
    assert.ok(disjoint(subtract(a, b)));
    assert.ok(disjoint(intersect(a, b)));
  }), { numRuns: 300 });
});

test('set laws: De Morgan, absorption, subset by difference', () => {
  const all = [makeBox([[0, N - 1], [0, N - 1], [0, N - 1]])];
  fc.assert(fc.property(boxSet, boxSet, (a, b) => {
    const notA = subtract(all, a);
    const notB = subtract(all, b);
    assert.ok(equals(subtract(all, union(a, b)), intersect(notA, notB)));
    assert.ok(equals(union(a, intersect(a, b)), a));
    assert.equal(isSubset(a, b), [...points(a)].every((p) => points(b).has(p)));
    assert.ok(isSubset(intersect(a, b), a));
  }), { numRuns: 300 });
});

test('coalesce keeps the same points in no more boxes', () => {
  fc.assert(fc.property(boxSet, (a) => {
    const c = coalesce(a);
    assert.deepEqual(points(c), points(a));
    assert.ok(c.length <= a.length);
  }), { numRuns: 300 });
});

test('coalesce merges two halves of one interval into one box', () => {
  const halves = [makeBox([[0, 1], [0, 3], [2, 2]]), makeBox([[2, 3], [0, 3], [2, 2]])];
  const merged = coalesce(halves);
  assert.equal(merged.length, 1);
  assert.deepEqual([...merged[0]], [0, 3, 0, 3, 2, 2]);
});
