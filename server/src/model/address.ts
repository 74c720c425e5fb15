// Addresses as bigints: their text, and the split of an address range into prefixes. Shared by the
// parsers (which read addresses) and the packet sets (which store them as words, packets/words.ts).
import type * as IpNum from 'ip-num';
import type { Family } from './policy';

// ip-num is loaded on first use: its start-up costs every CLI run some 10 ms, and IPv4 text needs none of it.
let ipNumModule: typeof IpNum | undefined;
function ipNum(): typeof IpNum {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (ipNumModule ??= require('ip-num') as typeof IpNum);
}

export type { Family };

export const ADDR_BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function maxAddr(family: Family): bigint {
  return (1n << BigInt(ADDR_BITS[family])) - 1n;
}

export function formatAddr(family: Family, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const { collapseIPv6Number, IPv6 } = ipNum();
  return collapseIPv6Number(new IPv6(value).toString());
}

/** Parses a plain address of either family; undefined when it is not one. */
export function parseAddr(text: string): { family: Family; value: bigint } | undefined {
  try {
    if (text.includes(':')) return { family: 6, value: ipNum().IPv6.fromString(text).getValue() };
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return { family: 4, value: new (ipNum().IPv4)(text).getValue() };
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
