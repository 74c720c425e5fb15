// First-match evaluation of one concrete packet: jumps come back on RETURN or at a user chain's end,
// gotos do not, non-terminal targets continue, a base chain's policy decides what nothing else did,
// and an entry's stages run in order (an accept ends only its stage, a drop is final).
import type { Chain, Entry, Policy, Range, Rule, Verdict } from '../model/policy';
import { containsPoint } from '../packets/boxes';
import type { Packet } from '../packets/space';
import type { Compiled } from './compile';

export interface TraceStep {
  rule: Rule;
  /** 'matched', or 'uncertain' when an opaque condition was assumed not to hold. */
  how: 'matched' | 'uncertain';
}

export interface PacketResult {
  verdict: Verdict;
  /** The deciding rule, or undefined when a chain policy decided. */
  rule?: Rule;
  /** The chain whose policy decided (when `rule` is undefined). */
  policyChain?: Chain;
  range: Range;
  trace: TraceStep[];
  /** Opaque conditions met on the way: the verdict assumes they did not hold. */
  uncertain: Rule[];
}

const MAX_DEPTH = 64;

export function chainResolver(policy: Policy): (table: string, name: string) => Chain | undefined {
  return (table, name) => policy.tables.find((t) => t.name === table)?.chains.get(name);
}

type ChainOutcome = { kind: 'verdict'; verdict: Verdict; rule: Rule } | { kind: 'return' };

export function evaluatePacket(policy: Policy, compiled: Compiled, entry: Entry, packet: Packet): PacketResult {
  const resolve = chainResolver(policy);
  const point = compiled.space.point(packet);
  const trace: TraceStep[] = [];
  const uncertain: Rule[] = [];

  const run = (chain: Chain, depth: number): ChainOutcome => {
    if (depth > MAX_DEPTH) return { kind: 'return' };
    for (const rule of chain.rules) {
      const sets = compiled.sets.get(rule)!;
      if (!containsPoint(sets.may, point)) continue;
      if (!sets.exact && !containsPoint(sets.must, point)) {
        uncertain.push(rule);
        trace.push({ rule, how: 'uncertain' });
        continue;
      }
      trace.push({ rule, how: 'matched' });
      const a = rule.action;
      switch (a.kind) {
        case 'verdict':
          return { kind: 'verdict', verdict: a.verdict, rule };
        case 'continue':
          break;
        case 'return':
          return { kind: 'return' };
        case 'jump':
        case 'goto': {
          const target = resolve(rule.table, a.chain);
          if (!target) break; // undefined-reference is reported elsewhere; the kernel would refuse the file
          const r = run(target, depth + 1);
          if (r.kind === 'verdict') return r;
          if (a.kind === 'goto') return { kind: 'return' };
          break;
        }
      }
    }
    return { kind: 'return' };
  };

  let accepted: PacketResult | undefined;
  for (const stage of entry.stages) {
    if (!stageSees(stage, packet.family)) continue;
    const r = run(stage, 0);
    if (r.kind === 'verdict') {
      const result: PacketResult = { verdict: r.verdict, rule: r.rule, range: r.rule.range, trace, uncertain };
      if (r.verdict !== 'accept') return result;
      accepted = result;
      continue;
    }
    const verdict = stage.policy ?? 'accept';
    const result: PacketResult = { verdict, policyChain: stage, range: stage.policyRange ?? stage.range, trace, uncertain };
    if (verdict !== 'accept') return result;
    accepted = result;
  }
  return accepted ?? { verdict: 'accept', range: zeroRange(), trace, uncertain };
}

/** An ip (ip6) base chain sees only IPv4 (IPv6) packets; iptables chains and inet chains see all. */
export function stageSees(stage: Chain, family: 4 | 6): boolean {
  return stage.family === undefined || stage.family === 'both' || stage.family === family;
}

function zeroRange(): Range {
  return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
}
