// The rule index against a scan of every box: on a small 4-dimensional domain with many rules (so the
// tree has inner nodes, straddling boxes and dimensions in which every box is the same), each
// question must get the answer the scan gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Box, boxContains, boxesIntersect, makeBox } from '../../server/src/packets/boxes';
import { RuleIndex } from '../../server/src/analysis/rule-index';

const N = 6; // values per dimension
const interval = fc.tuple(fc.integer({ min: 0, max: N - 1 }), fc.integer({ min: 0, max: N - 1 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]);
/** Dimension 2 is the same in every box, dimension 3 nearly so. */
const box = fc.tuple(interval, interval, fc.oneof(interval, fc.constant([0, N - 1] as [number, number]))).map(([a, b, c]) => makeBox([a, b, [1, 4], c]));
const rules = fc.array(fc.array(box, { maxLength: 3 }), { minLength: 0, maxLength: 80 });
const point = fc.array(fc.integer({ min: 0, max: N - 1 }), { minLength: 4, maxLength: 4 });

function holds(b: Box, p: number[]): boolean {
  return p.every((v, d) => v >= b[2 * d] && v <= b[2 * d + 1]);
}

test('covers, firstCovering, container and query answer as a scan of the boxes does', () => {
  fc.assert(fc.property(rules, point, box, fc.array(box, { maxLength: 3 }), fc.nat(90), fc.nat(20), (rs, p, q, qs, before, limit) => {
    const index = new RuleIndex(rs);
    const earlier = rs.slice(0, before);
    assert.equal(index.covers(p, before), earlier.some((bs) => bs.some((b) => holds(b, p))), 'covers');
    const firstHolder = rs.findIndex((bs) => bs.some((b) => holds(b, p)));
    assert.equal(index.firstCovering(p), firstHolder < 0 ? undefined : firstHolder, 'firstCovering');
    const first = earlier.findIndex((bs) => bs.some((b) => boxContains(b, q)));
    assert.equal(index.container(q, before), first < 0 ? undefined : first, 'container');
    const meeting = earlier.flatMap((bs, i) => (bs.some((b) => qs.some((x) => boxesIntersect(b, x))) ? [i] : []));
    assert.deepEqual(index.query(qs, before), meeting, 'query');
    assert.deepEqual(index.query(qs, before, limit), meeting.length > limit ? undefined : meeting, 'query with a limit');
  }), { numRuns: 2000 });
});
