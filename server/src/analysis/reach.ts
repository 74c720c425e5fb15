// What leaves a chain at each rule for certain, and which earlier rules take all of a set:
// the shared core of the shadowing and catch-all checks.
import type { Chain, Rule } from '../model/policy';
import { Box, subtract } from '../packets/boxes';
import type { Compiled, RuleSets } from './compile';
import { RuleIndex } from './rule-index';
import { DIM_COUNT } from '../packets/space';

export type Resolve = (table: string, name: string) => Chain | undefined;

/** Box subtractions one coverage question may cost before it gives up (and claims nothing). */
const BUDGET = 50_000;
/** Earlier rules one coverage question may look at. */
const CANDIDATES = 5_000;

export class ChainReach {
  /** Per rule: the packets that certainly do not go on to the next rule. */
  readonly leaves: Box[][];
  readonly index: RuleIndex;

  /** Scratch for witness points (the questions are asked one at a time). */
  private readonly point: number[];

  constructor(readonly chain: Chain, readonly compiled: Compiled, resolve: Resolve, summaries: ChainSummaries) {
    this.leaves = chain.rules.map((r) => leavesAt(r, compiled, resolve, summaries));
    this.index = new RuleIndex(this.leaves);
    this.point = new Array<number>(DIM_COUNT).fill(0);
  }

  /**
   * Whether rules before `before` certainly take all of `set`: the rules that take part of it, in
   * order, or undefined when some of it gets past them (or the question cost more than the budget).
   */
  coveredBy(set: Box[], before: number, maxCandidates = CANDIDATES): number[] | undefined {
    if (set.length === 0) return [];
    // Most rules are not covered: a corner or the centre of one of their boxes that no earlier rule
    // contains proves it without any subtraction.
    const w = this.point;
    for (let i = 0; i < set.length && i < 4; i++) {
      for (let k = 0; k < WITNESSES; k++) if (!this.index.covers(witness(set[i], k, w), before)) return undefined;
    }
    // Usually one earlier rule contains the whole of it: name that rule alone.
    const containers: number[] = [];
    for (const b of set) {
      const c = this.index.container(b, before);
      if (c === undefined) {
        containers.length = 0;
        break;
      }
      if (!containers.includes(c)) containers.push(c);
    }
    if (containers.length) return containers.sort((a, b) => a - b);
    const candidates = this.index.query(set, before, maxCandidates);
    if (!candidates) return undefined;
    let rest = set;
    const takenBy: number[] = [];
    let work = 0;
    for (const i of candidates) {
      const leaves = this.leaves[i];
      work += rest.length * leaves.length;
      if (work > BUDGET) return undefined;
      const next = subtract(rest, leaves);
      if (next.length !== rest.length || !sameBoxes(next, rest)) takenBy.push(i);
      rest = next;
      if (rest.length === 0) return takenBy;
    }
    return undefined;
  }
}

const WITNESSES = 3;

/** Witness k of a box, written into `out`: its low corner, its centre, its high corner. */
function witness(b: Box, k: number, out: number[]): number[] {
  for (let d = 0; d < out.length; d++) {
    const lo = b[2 * d];
    const hi = b[2 * d + 1];
    out[d] = k === 0 ? lo : k === 1 ? Math.floor((lo + hi) / 2) : hi;
  }
  return out;
}

function sameBoxes(a: Box[], b: Box[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function leavesAt(rule: Rule, compiled: Compiled, resolve: Resolve, summaries: ChainSummaries): Box[] {
  const { must } = compiled.sets.get(rule)!;
  const a = rule.action;
  switch (a.kind) {
    case 'verdict':
    case 'return':
    case 'goto': // a goto never comes back to this chain
      return must;
    case 'jump': {
      const target = resolve(rule.table, a.chain);
      return target && summaries.get(target).decidesAll ? must : [];
    }
    case 'continue':
      return [];
  }
}

export interface ChainSummary {
  /** Every packet entering the chain gets a verdict in it (never returns). */
  decidesAll: boolean;
  /** No packet can be accepted by this chain or the chains it calls. */
  neverAccepts: boolean;
}

/** Per-chain facts, computed on demand and memoised; cycles count as "unknown" (sound). */
export class ChainSummaries {
  private readonly memo = new Map<Chain, ChainSummary>();
  private readonly inProgress = new Set<Chain>();

  constructor(private readonly compiled: Compiled, private readonly resolve: Resolve) {}

  get(chain: Chain): ChainSummary {
    const known = this.memo.get(chain);
    if (known) return known;
    if (this.inProgress.has(chain)) return { decidesAll: false, neverAccepts: false };
    this.inProgress.add(chain);
    const s = this.compute(chain);
    this.inProgress.delete(chain);
    this.memo.set(chain, s);
    return s;
  }

  private compute(chain: Chain): ChainSummary {
    let neverAccepts = true;
    let decidesAll = false;
    let canLeave = false; // a RETURN or goto before: some packets may come back to the caller
    // Whether the rule takes every packet (asked only while no packet can have left the chain).
    const coversAll = (sets: RuleSets) => sets.exact && this.compiled.space.isAll(sets.must);
    const rules = chain.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      const sets = this.compiled.sets.get(rule)!;
      const a = rule.action;
      if (a.kind === 'verdict') {
        if (a.verdict === 'accept' && sets.may.length) neverAccepts = false;
        if (!canLeave && coversAll(sets)) {
          decidesAll = true;
          break;
        }
      } else if (a.kind === 'return') {
        if (sets.may.length) canLeave = true;
      } else if (a.kind === 'jump' || a.kind === 'goto') {
        const t = this.resolve(rule.table, a.chain);
        const sub = t ? this.get(t) : { decidesAll: false, neverAccepts: true };
        if (!sub.neverAccepts) neverAccepts = false;
        if (a.kind === 'goto') {
          if (!sub.decidesAll) canLeave = true;
          else if (!canLeave && coversAll(sets)) {
            decidesAll = true;
            break;
          }
        } else if (sub.decidesAll && !canLeave && coversAll(sets)) {
          decidesAll = true;
          break;
        }
      }
    }
    if (chain.policy) decidesAll = true; // a base chain's policy decides what is left
    if (chain.policy === 'accept') neverAccepts = false;
    return { decidesAll, neverAccepts };
  }
}
