// A small seeded PRNG (mulberry32) so that every generated ruleset and packet can be reproduced
// from its seed: the kernel and parse suites and the benchmark generator all draw from it.

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (!items.length) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** Picks by weight: [[weight, value], …]; entries with weight 0 never. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      if (w <= 0) continue;
      if (r < w) return v;
      r -= w;
    }
    for (let i = items.length - 1; i >= 0; i--) if (items[i][0] > 0) return items[i][1];
    throw new Error('weighted pick with no positive weight');
  }

  /** A uniformly random unsigned integer of `bits` bits. */
  bits(bits: number): bigint {
    let v = 0n;
    for (let done = 0; done < bits; done += 16) v = (v << 16n) | BigInt(this.int(0, 0xffff));
    const extra = (Math.ceil(bits / 16) * 16) - bits;
    return v >> BigInt(extra);
  }

  /** A random bigint in [lo, hi]. */
  bigBetween(lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    if (span <= 0n) return lo;
    const bits = span.toString(2).length + 16;
    return lo + (this.bits(bits) % span);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** An independent seed for a sub-generator (so one ruleset can be regenerated alone). */
  fork(): number {
    return this.int(0, 0xffffffff) >>> 0;
  }
}

/** The seed of ruleset `index` of a run seeded with `seed`. */
export function rulesetSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
