// The plain IPv4 form (`a.b.c.d[/n]`, decimal) is read in place by a fast path; every other
// spelling goes through the general reader. Both must agree: a plain word is compared with the
// same address written with a dotted mask, or with a redundant leading zero, which the fast path
// leaves to the general reader.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAddressList, type AddrValue } from '../../server/src/syntax/iptables/addresses';

const dottedMask = (bits: number): string => {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`;
};

const only = (word: string): AddrValue => {
  const { addrs, errors } = parseAddressList(word, 4);
  assert.deepEqual(errors, []);
  assert.equal(addrs.length, 1);
  return addrs[0];
};

/** The element without its offsets, which differ between spellings of different lengths. */
const value = (a: AddrValue): Omit<AddrValue, 'start' | 'end'> => {
  const { start: _s, end: _e, ...rest } = a;
  return rest;
};

test('a plain IPv4 prefix reads as the same address with a dotted mask', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }), (parts, bits) => {
    const host = parts.join('.');
    assert.deepEqual(value(only(`${host}/${bits}`)), value(only(`${host}/${dottedMask(bits)}`)));
  }), { numRuns: 2000 });
});

test('a plain IPv4 host reads as the same address spelled with a leading zero', () => {
  // A leading zero makes a part octal: a single digit keeps its value.
  fc.assert(fc.property(fc.integer({ min: 0, max: 7 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 1, max: 32 }), (first, rest, bits) => {
    const tail = `.${rest.join('.')}/${bits}`;
    assert.deepEqual(value(only(`${first}${tail}`)), value(only(`0${first}${tail}`)));
  }), { numRuns: 2000 });
});
