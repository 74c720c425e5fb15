// Addresses as the 32-bit words that the box dimensions use: IPv6 is four words, IPv4 one word
// behind three zeros. A range of addresses becomes a few boxes of words.
import type { Family } from '../model/address';

const WORD = 0xffffffffn;

export function toWords(family: Family, value: bigint): [number, number, number, number] {
  if (family === 4) return [0, 0, 0, Number(value)];
  return [Number((value >> 96n) & WORD), Number((value >> 64n) & WORD), Number((value >> 32n) & WORD), Number(value & WORD)];
}

export function fromWords(w: readonly number[]): bigint {
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

/** Word intervals [lo,hi] x4 whose product is exactly the address range [first,last]. */
export function rangeToWordBoxes(family: Family, first: bigint, last: bigint): [number, number][][] {
  if (family === 4) return [[[0, 0], [0, 0], [0, 0], [Number(first), Number(last)]]];
  const out: [number, number][][] = [];
  split(toWords(6, first), toWords(6, last), 0, [], out);
  return out;
}

const MAXW = 0xffffffff;

function split(f: number[], l: number[], k: number, fixed: [number, number][], out: [number, number][][]): void {
  if (k === 4) {
    out.push(fixed);
    return;
  }
  if (f[k] === l[k]) {
    split(f, l, k + 1, [...fixed, [f[k], f[k]]], out);
    return;
  }
  const fRestMin = f.slice(k + 1).every((w) => w === 0);
  const lRestMax = l.slice(k + 1).every((w) => w === MAXW);
  const full = (n: number) => Array.from({ length: n }, () => [0, MAXW] as [number, number]);
  let midLo = f[k] + 1;
  let midHi = l[k] - 1;
  if (fRestMin) midLo = f[k];
  else split(f, [...f.slice(0, k + 1), MAXW, MAXW, MAXW].slice(0, 4), k + 1, [...fixed, [f[k], f[k]]], out);
  if (lRestMax) midHi = l[k];
  if (midLo <= midHi) out.push([...fixed, [midLo, midHi], ...full(3 - k)]);
  if (!lRestMax) split([...l.slice(0, k + 1), 0, 0, 0].slice(0, 4), l, k + 1, [...fixed, [l[k], l[k]]], out);
}
