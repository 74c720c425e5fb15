// The "did you mean" of the undefined-reference fixes: which declared names a misspelt one may
// have been meant as.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { closestNames } from '../../server/src/features/code-actions';

test('a name differing in case, by a typo or by two swapped letters is offered; others are not', () => {
  assert.deepEqual(closestNames('logdrop', ['LOGDROP', 'INPUT']), ['LOGDROP']);
  assert.deepEqual(closestNames('LOG_DORP', ['LOG_DROP', 'LOG_ACCEPT']), ['LOG_DROP']);
  assert.deepEqual(closestNames('blokced', ['blocked', 'allowed']), ['blocked']);
  assert.deepEqual(closestNames('SSH', ['SSL', 'HTTP']), ['SSL'], 'one edit in three letters');
  assert.deepEqual(closestNames('ab', ['ac', 'AB']), ['AB'], 'a two-letter name has no room for a typo, only for case');
  assert.deepEqual(closestNames('web', ['web']), [], 'the name itself is no suggestion');
});

test('suggestions are the nearest first, at most three, each within two edits', () => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 10 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 8 }), (name, names) => {
    const out = closestNames(name, names);
    assert.ok(out.length <= 3);
    for (const n of out) {
      assert.ok(names.includes(n) && n !== name);
      // Within two single-character edits, by a plain check: lengths differ by at most two.
      assert.ok(Math.abs(n.length - name.length) <= 2 || n.toLowerCase() === name.toLowerCase());
    }
  }), { seed: 7, numRuns: 300 });
});
