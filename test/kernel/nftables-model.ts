// The nftables suite's two readings of a packet's walk:
//  - kernelNftAnswer: what the kernel's counters say (the oracle), under the convention fwlens uses
//    for several base chains on one hook: a drop/reject (rule, vmap element or policy) is final and
//    is the answer; otherwise the packet is accepted and the answer is what accepted it in the LAST
//    base chain (by priority) that sees the packet's family: its accept rule, vmap, or policy;
//  - evaluateNft: the harness's own small evaluator of the generated rulesets, which predicts the
//    counters. It is not the oracle; it checks the harness (if it disagrees with the kernel, suspect
//    the harness first).
import { Family } from './addr';
import { Packet, State } from './iptables-gen';
import { ICMP, ifaceMatches, NChain, NCond, NRule, NRuleset, OBSERVER_CT, tableSees, VmapElem } from './nftables-gen';

export interface NftAnswer {
  verdict?: 'accept' | 'drop' | 'reject';
  /** The deciding rule, or undefined when a base chain's policy decided. */
  rule?: NRule;
  /** The base chain whose policy decided (when rule is undefined), or the deciding rule's base chain. */
  chain?: NChain;
  /** 0-based line of the deciding rule or of the `policy` statement. */
  line?: number;
  /** Counters that moved (name → times), without the observer's. */
  hits: Record<string, number>;
  /** The connection state the kernel gave the packet (observer chain). */
  state?: State;
  error?: string;
}

export function baseChainsFor(rs: NRuleset, f: Family): NChain[] {
  return rs.baseChains.filter((c) => tableSees(c.table.family, f));
}

const verdictOfRule = (r: NRule): 'accept' | 'drop' | 'reject' => (r.verdict === 'reject' ? 'reject' : r.verdict === 'drop' ? 'drop' : 'accept');

export function kernelNftAnswer(rs: NRuleset, p: Packet, raw: { hits: Record<string, number>; clean: boolean }): NftAnswer {
  const hits: Record<string, number> = {};
  let state: State | undefined;
  for (const [k, n] of Object.entries(raw.hits)) {
    const ct = OBSERVER_CT.indexOf(k);
    if (ct >= 0) state = (['NEW', 'ESTABLISHED', 'RELATED', 'INVALID'] as State[])[ct];
    else if (k !== 'fwlk-first') hits[k] = n;
  }
  const fail = (error: string): NftAnswer => ({ hits, state, error });
  if (!raw.clean) return fail(`counters not clean after retries: ${JSON.stringify(raw)}`);
  if (raw.hits['fwlk-first'] !== 1) return fail('the observer chain before every base chain did not count the packet once');
  if (state !== p.state) return fail(`the kernel saw the packet as ${state ?? 'no state'}, the harness meant ${p.state}`);
  for (const k of Object.keys(hits)) {
    if (k === 'fwlk-last' || rs.byName.has(k) || rs.elems.has(k) || rs.baseChains.some((c) => c.base!.tail === k)) continue;
    return fail(`a counter moved that the ruleset does not have: ${k}`);
  }
  let accepted: NftAnswer | undefined;
  const chains = baseChainsFor(rs, p.family);
  for (let i = 0; i < chains.length; i++) {
    const chain = chains[i];
    const events: { rule: NRule; elem?: VmapElem; verdict: 'accept' | 'drop' | 'reject'; n: number }[] = [];
    for (const [k, n] of Object.entries(hits)) {
      const r = rs.byName.get(k);
      if (r && r.chain.owner === chain && (r.verdict === 'accept' || r.verdict === 'drop' || r.verdict === 'reject')) events.push({ rule: r, verdict: verdictOfRule(r), n });
      const e = rs.elems.get(k);
      if (e && e.rule.chain.owner === chain && (e.elem.verdict === 'accept' || e.elem.verdict === 'drop')) events.push({ rule: e.rule, elem: e.elem, verdict: e.elem.verdict, n });
    }
    const tail = hits[chain.base!.tail] ?? 0;
    const total = events.reduce((s, e) => s + e.n, 0) + tail;
    // No outcome counted at all: the policy, reached through `goto` (which never comes back to the
    // base chain's tail counter). The later checks (the next chains, fwlk-last) still hold it to account.
    if (total > 1) return fail(`base chain ${chain.name}: ${total} outcomes counted (${events.map((e) => e.elem ? e.elem.key : e.rule.name).join(', ')}${tail ? `, policy ${tail}` : ''})`);
    const outcome: NftAnswer = events.length
      ? { verdict: events[0].verdict, rule: events[0].rule, chain, line: events[0].rule.line, hits, state }
      : { verdict: chain.base!.policy, chain, line: chain.base!.policyLine, hits, state };
    if (outcome.verdict !== 'accept') {
      // Final: nothing after it may have seen the packet.
      for (const later of chains.slice(i + 1)) {
        if (Object.keys(hits).some((k) => rs.byName.get(k)?.chain.owner === later || rs.elems.get(k)?.rule.chain.owner === later || k === later.base!.tail)) {
          return fail(`base chain ${later.name} saw a packet that ${chain.name} had dropped`);
        }
      }
      if (hits['fwlk-last']) return fail('the packet was dropped and yet reached the observer after every base chain');
      return outcome;
    }
    accepted = outcome;
  }
  if (!accepted) return fail('no base chain sees this family');
  if (hits['fwlk-last'] !== 1) return fail('accepted by every base chain but the observer after them did not count it');
  return accepted;
}

// ------------------------------------------------------------------------------------------------
// the harness model

export function condMatches(c: NCond, p: Packet): boolean {
  const ports = p.proto === 6 || p.proto === 17;
  switch (c.k) {
    case 'l4proto':
      return c.protos.includes(p.proto) !== c.neg;
    case 'saddr':
    case 'daddr': {
      if (p.family !== c.fam) return false; // the implied `meta nfproto` holds for != too
      const v = c.k === 'saddr' ? p.src : p.dst;
      return c.ranges.some(([lo, hi]) => lo <= v && v <= hi) !== c.neg;
    }
    case 'sport':
    case 'dport': {
      if (c.proto === 'th' ? !ports : p.proto !== c.proto) return false;
      const v = c.k === 'sport' ? p.sport! : p.dport!;
      return c.ranges.some(([lo, hi]) => lo <= v && v <= hi) !== c.neg;
    }
    case 'icmp':
      if (p.family !== c.fam || p.proto !== ICMP[c.fam]) return false;
      return c.types.includes(p.icmpType!) !== c.neg;
    case 'iif':
      return c.pats.some((pat) => ifaceMatches(pat, p.in)) !== c.neg;
    case 'ct':
      return c.states.includes(p.state) !== c.neg;
  }
}

export interface NftModelAnswer {
  verdict: 'accept' | 'drop' | 'reject';
  rule?: NRule;
  chain: NChain;
  line: number;
  hits: Record<string, number>;
}

export function evaluateNft(rs: NRuleset, p: Packet): NftModelAnswer {
  const hits: Record<string, number> = {};
  const count = (k: string) => (hits[k] = (hits[k] ?? 0) + 1);
  type Result = { rule: NRule; verdict: 'accept' | 'drop' | 'reject' } | 'return';
  const run = (chain: NChain, depth: number): Result => {
    if (depth > 32) throw new Error('jump loop in a generated ruleset');
    for (const r of chain.rules) {
      if (!r.conds.every((c) => condMatches(c, p))) continue;
      let verdict: string = r.verdict;
      let to = r.to;
      if (r.vmap) {
        const { proto, dir, elems } = r.vmap;
        if (proto === 'th' ? !(p.proto === 6 || p.proto === 17) : p.proto !== proto) continue;
        const v = dir === 'sport' ? p.sport! : p.dport!;
        const e = elems.find((x) => x.lo <= v && v <= x.hi);
        if (!e) continue;
        count(e.key);
        verdict = e.verdict;
        to = e.to;
      } else {
        count(r.name);
      }
      if (verdict === 'accept' || verdict === 'drop' || verdict === 'reject') return { rule: r, verdict };
      if (verdict === 'return') return 'return';
      if (verdict === 'jump' || verdict === 'goto') {
        const sub = run(to!, depth + 1);
        if (sub !== 'return') return sub;
        if (verdict === 'goto') return 'return';
      }
    }
    if (chain.base) count(chain.base.tail);
    return 'return';
  };
  let last: NftModelAnswer | undefined;
  for (const chain of baseChainsFor(rs, p.family)) {
    const res = run(chain, 0);
    let a: NftModelAnswer;
    if (res === 'return') {
      a = { verdict: chain.base!.policy, chain, line: chain.base!.policyLine, hits };
    } else {
      a = { verdict: res.verdict, rule: res.rule, chain, line: res.rule.line, hits };
    }
    if (a.verdict !== 'accept') return a;
    last = a;
  }
  count('fwlk-last');
  return last!;
}
