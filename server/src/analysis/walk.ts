// Symbolic evaluation: push a whole packet set through an entry and split it into the parts each
// rule (or policy) decides. This is what `explain` and the CIDR hover show. Opaque conditions make
// a part "depends": it is reported with the rule whose outcome cannot be known and not followed
// further, so no part is claimed with a verdict the analysis cannot stand behind.
import type { Chain, Entry, Rule, Verdict } from '../model/policy';
import { Box, intersect, subtract, union } from '../packets/boxes';
import type { Compiled } from './compile';
import type { Resolve } from './reach';

export interface Piece {
  set: Box[];
  verdict: Verdict | 'depends';
  /** Deciding rule; undefined when a chain's policy decided. */
  rule?: Rule;
  policyChain?: Chain;
}

/** Box operations a walk may spend before it stops and reports the rest as undecided. */
const WORK_LIMIT = 500_000;
const MAX_DEPTH = 64;

export interface WalkOptions {
  /** performance.now() after which the walk stops (and says it is incomplete). */
  deadline?: number;
  /** Collect what arrives at this rule and matches it, whatever its action. */
  watch?: Rule;
  /** Box operations the walk may spend (default WORK_LIMIT). */
  maxWork?: number;
}

export interface WalkResult {
  pieces: Piece[];
  /** False when the walk stopped early (work limit or deadline): pieces cover part of the start. */
  complete: boolean;
  /** What arrived at the watched rule and may match it. */
  watched: Box[];
}

export function walkEntry(compiled: Compiled, resolve: Resolve, entry: Entry, start: Box[], opts: WalkOptions = {}): WalkResult {
  const pieces: Piece[] = [];
  let work = 0;
  let complete = true;
  let watched: Box[] = [];
  let steps = 0;
  // The clock is read on the first rule and every 16th after it.
  const late = () => opts.deadline !== undefined && (steps++ & 15) === 0 && performance.now() > opts.deadline;

  const take = (cur: Box[], sets: Box[]): Box[] => {
    work += cur.length * sets.length;
    return intersect(cur, sets);
  };
  const minus = (cur: Box[], sets: Box[]): Box[] => {
    const out = subtract(cur, sets);
    // Subtraction fragments: the pieces it makes count as work too.
    work += cur.length * sets.length + out.length;
    return out;
  };
  const maxWork = opts.maxWork ?? WORK_LIMIT;

  /**
   * Returns the part of `set` that comes back out of the chain (fell off its end or RETURNed).
   * The sets it joins are disjoint by construction (what a rule takes is removed from `cur`), so
   * they are concatenated, not unioned: a union would subtract one from the other for nothing.
   */
  const run = (chain: Chain, set: Box[], depth: number, out: Piece[]): Box[] => {
    let cur = set;
    let returned: Box[] = [];
    // Only rules whose `may` meets the set can match or take anything from it (the walk only ever
    // carries subsets of it): a /24 in a 10k-rule chain visits the few dozen rules that mention it.
    const candidates = compiled.mayIndex(chain).query(set, Infinity) ?? [];
    for (const i of candidates) {
      const rule = chain.rules[i];
      if (cur.length === 0) break;
      if (!complete || work > maxWork || depth > MAX_DEPTH || late()) {
        complete = false;
        return returned.concat(cur);
      }
      const sets = compiled.sets.get(rule)!;
      if (rule === opts.watch) watched = union(watched, take(cur, sets.may));
      const hit = take(cur, sets.must);
      if (!sets.exact) {
        const maybe = minus(take(cur, sets.may), sets.must);
        if (maybe.length) out.push({ set: maybe, verdict: 'depends', rule });
        cur = minus(cur, sets.may);
      } else {
        cur = minus(cur, sets.must);
      }
      if (hit.length === 0) continue;
      const a = rule.action;
      switch (a.kind) {
        case 'verdict':
          out.push({ set: hit, verdict: a.verdict, rule });
          break;
        case 'continue':
          cur = cur.concat(hit);
          break;
        case 'return':
          returned = returned.concat(hit);
          break;
        case 'jump':
        case 'goto': {
          const target = resolve(rule.table, a.chain);
          const back = target ? run(target, hit, depth + 1, out) : hit;
          if (a.kind === 'jump') cur = cur.concat(back);
          else returned = returned.concat(back);
          break;
        }
      }
    }
    return returned.concat(cur);
  };

  let flowing = start;
  let passed: Box[] = []; // accepted by an earlier stage (or seen by none yet), still flowing
  let acceptedBy: Piece[] = [];
  for (const stage of entry.stages) {
    // Packets of a family this base chain does not see pass it untouched.
    const seen = stage.family === 4 || stage.family === 6 ? flowing.filter((b) => b[0] === stage.family) : flowing;
    const unseen = seen === flowing ? [] : flowing.filter((b) => b[0] !== stage.family);
    const stagePieces: Piece[] = [];
    const rest = run(stage, seen, 0, stagePieces);
    if (rest.length) stagePieces.push({ set: rest, verdict: stage.policy ?? 'accept', policyChain: stage });
    // An accept ends only this stage: the next base chain on the hook still sees the packet.
    const accepted = stagePieces.filter((p) => p.verdict === 'accept');
    pieces.push(...stagePieces.filter((p) => p.verdict !== 'accept'));
    acceptedBy = accepted.map((p) => ({ ...p, set: p.set }));
    flowing = accepted.flatMap((p) => p.set).concat(unseen);
    passed = unseen;
  }
  // What the last stage accepted is accepted; what no stage saw is accepted by default.
  pieces.push(...acceptedBy);
  if (passed.length) pieces.push({ set: passed, verdict: 'accept' });
  return { pieces, complete, watched };
}
