// IPv4/IPv6 addresses as bigints, written independently of the engine's own address code so the
// differential suite does not share its bugs.

export type Family = 4 | 6;

export const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function parseIp(text: string): { family: Family; value: bigint } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 4, value: parts.reduce((v, p) => (v << 8n) | BigInt(p), 0n) };
  }
  if (!text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return { family: 6, value: groups.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export function formatIp(family: Family, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 255n)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // The longest run (length >= 2) of zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function mask(family: Family, len: number): bigint {
  const bits = BITS[family];
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - len)) - 1n);
}

export function prefixBounds(family: Family, addr: bigint, len: number): { lo: bigint; hi: bigint } {
  const lo = addr & mask(family, len);
  return { lo, hi: lo | ((1n << BigInt(BITS[family] - len)) - 1n) };
}

export function parseCidr(text: string): { family: Family; lo: bigint; hi: bigint; len: number } | undefined {
  const [a, l] = text.split('/');
  const ip = parseIp(a);
  if (!ip) return undefined;
  const len = l === undefined ? BITS[ip.family] : Number(l);
  return { family: ip.family, len, ...prefixBounds(ip.family, ip.value, len) };
}

export function inCidrs(family: Family, v: bigint, cidrs: readonly string[]): boolean {
  return cidrs.some((c) => {
    const p = parseCidr(c);
    return !!p && p.family === family && p.lo <= v && v <= p.hi;
  });
}
