// Interface names as one integer dimension. Given every name and '+'-prefix a policy mentions, each
// name or prefix becomes an interval: names sort, a prefix covers [p, p + END), and the odd codes
// between keys stand for the interfaces no rule names. Built once per policy.

const END = '\u{10FFFF}'; // sorts after any character an interface name can hold

export class IfaceSpace {
  private readonly keys: string[];
  private readonly index = new Map<string, number>();

  constructor(patterns: Iterable<string>) {
    const set = new Set<string>();
    for (const p of patterns) {
      if (p.endsWith('+')) {
        const prefix = p.slice(0, -1);
        set.add(prefix);
        set.add(prefix + END);
      } else set.add(p);
    }
    this.keys = [...set].sort(compare);
    this.keys.forEach((k, i) => this.index.set(k, i));
  }

  /** Codes run from 0 to max(); key i is 2i+1, the gap before it 2i. */
  max(): number {
    return 2 * this.keys.length;
  }

  /** The interval of a name or a 'prefix+' pattern (which must have been given to the constructor). */
  interval(pattern: string): [number, number] {
    if (pattern === '+' ) return [0, this.max()];
    if (pattern.endsWith('+')) {
      const prefix = pattern.slice(0, -1);
      return [2 * this.indexOf(prefix) + 1, 2 * this.indexOf(prefix + END)];
    }
    const i = this.indexOf(pattern);
    return [2 * i + 1, 2 * i + 1];
  }

  /** The code of a concrete interface name (named or not). */
  code(name: string): number {
    const i = this.index.get(name);
    if (i !== undefined) return 2 * i + 1;
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.keys[mid], name) < 0) lo = mid + 1;
      else hi = mid;
    }
    return 2 * lo;
  }

  /** A readable name for a code: the key, or "an interface no rule names" for a gap. */
  describe(lo: number, hi: number): string {
    if (lo === 0 && hi === this.max()) return 'any interface';
    const parts: string[] = [];
    for (let c = lo; c <= hi && parts.length < 6; c++) {
      if (c % 2 === 1) {
        const k = this.keys[(c - 1) / 2];
        if (k.endsWith(END)) continue;
        // A prefix key followed by its END key up to hi reads as 'prefix+'.
        const endIdx = this.index.get(k + END);
        if (endIdx !== undefined && 2 * endIdx <= hi) {
          parts.push(k + '+');
          c = 2 * endIdx;
        } else parts.push(k);
      } else if (!parts.includes('other')) parts.push('other');
    }
    return parts.map((p) => (p === 'other' ? 'an unnamed interface' : p)).join(', ');
  }

  /** A concrete name inside the code interval, for sample packets. */
  sample(lo: number, hi: number): string | undefined {
    for (let c = lo; c <= hi; c++) {
      if (c % 2 === 1) {
        const k = this.keys[(c - 1) / 2];
        if (!k.endsWith(END)) return k;
      }
    }
    return undefined;
  }

  private indexOf(key: string): number {
    const i = this.index.get(key);
    if (i === undefined) throw new Error(`interface pattern not registered: ${key}`);
    return i;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
