// Addresses as bigints, their text, and the split of an address range into prefixes or into the
// 32-bit words that the box dimensions use (IPv6 is four words, IPv4 one word behind three zeros).
import { collapseIPv6Number, IPv4, IPv6 } from 'ip-num';

export type Family = 4 | 6;

export const ADDR_BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function maxAddr(family: Family): bigint {
  return (1n << BigInt(ADDR_BITS[family])) - 1n;
}

export function formatAddr(family: Family, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  return collapseIPv6Number(new IPv6(value).toString());
}

/** Parses a plain address of either family; undefined when it is not one. */
export function parseAddr(text: string): { family: Family; value: bigint } | undefined {
  try {
    if (text.includes(':')) return { family: 6, value: IPv6.fromString(text).getValue() };
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return { family: 4, value: new IPv4(text).getValue() };
  } catch {
    return undefined;
  }
  return undefined;
}

/** The fewest prefixes that cover exactly [first, last]. */
export function rangeToPrefixes(family: Family, first: bigint, last: bigint): { addr: bigint; len: number }[] {
  const bits = ADDR_BITS[family];
  const out: { addr: bigint; len: number }[] = [];
  let cur = first;
  while (cur <= last) {
    // Largest block aligned at cur that does not pass last.
    let size = 0;
    while (size < bits) {
      const block = 1n << BigInt(size + 1);
      if (cur % block !== 0n || cur + block - 1n > last) break;
      size++;
    }
    out.push({ addr: cur, len: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

export function formatRange(family: Family, first: bigint, last: bigint): string {
  const prefixes = rangeToPrefixes(family, first, last);
  const bits = ADDR_BITS[family];
  if (prefixes.length <= 3) {
    return prefixes.map((p) => (p.len === bits ? formatAddr(family, p.addr) : `${formatAddr(family, p.addr)}/${p.len}`)).join(', ');
  }
  return `${formatAddr(family, first)}-${formatAddr(family, last)}`;
}

export function prefixRange(family: Family, addr: bigint, len: number): { first: bigint; last: bigint } {
  const hostBits = BigInt(ADDR_BITS[family] - len);
  const first = (addr >> hostBits) << hostBits;
  return { first, last: first + (1n << hostBits) - 1n };
}

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
