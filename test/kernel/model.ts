// The harness's own small model of iptables evaluation, for the generated rulesets only. It is not
// the oracle (the kernel is); it checks the harness: when the kernel and this model agree, a
// disagreement with fwlens is fwlens's, and when they disagree the harness is suspect first.
import { Cond, GenRule, ifaceMatches, Packet, Ruleset, TERMINAL } from './iptables-gen';

export interface ModelAnswer {
  /** The deciding rule, or undefined when the INPUT policy decided. */
  rule?: GenRule;
  verdict: 'accept' | 'drop' | 'reject';
  /** Every rule whose conditions matched, in the order they were passed (what counters show). */
  path: GenRule[];
}

export function condMatches(c: Cond, p: Packet): boolean {
  const m = ((): boolean => {
    switch (c.k) {
      case 'proto':
        return p.proto === c.num;
      case 'src':
        return c.lo <= p.src && p.src <= c.hi;
      case 'dst':
        return c.lo <= p.dst && p.dst <= c.hi;
      case 'in':
        return ifaceMatches(c.pat, p.in);
      case 'out':
        // INPUT has no output interface: only the bare `+` (which iptables drops as "any") matches.
        return c.pat === '+';
      case 'sport':
      case 'dport':
      case 'port': {
        if (p.proto !== 6 && p.proto !== 17) return false;
        const vals = c.k === 'sport' ? [p.sport] : c.k === 'dport' ? [p.dport] : [p.sport, p.dport];
        return vals.some((v) => v !== undefined && c.ranges.some(([lo, hi]) => lo <= v && v <= hi));
      }
      case 'icmp':
        if (p.icmpType === undefined) return false;
        return c.type === null || (c.type === p.icmpType && (c.code === null || c.code === p.icmpCode));
      case 'state':
        return c.states.includes(p.state);
    }
  })();
  // A negated port or ICMP match still needs the protocol's header: `! --dport 22` never matches ICMP.
  if (c.neg && (c.k === 'sport' || c.k === 'dport' || c.k === 'port') && p.proto !== 6 && p.proto !== 17) return false;
  if (c.neg && c.k === 'icmp' && p.icmpType === undefined) return false;
  if (c.k === 'out' && c.pat === '+') return !c.neg;
  return c.neg ? !m : m;
}

export function evaluate(rs: Ruleset, p: Packet): ModelAnswer {
  const path: GenRule[] = [];
  type Result = { rule: GenRule } | 'return';
  const run = (chain: string, depth: number): Result => {
    if (depth > 64) throw new Error('jump loop in a generated ruleset');
    for (const r of rs.byChain.get(chain) ?? []) {
      if (!r.conds.every((c) => condMatches(c, p))) continue;
      path.push(r);
      if (TERMINAL.has(r.target)) return { rule: r };
      if (r.target === 'RETURN') return 'return';
      if (r.target === 'JUMP' || r.target === 'GOTO') {
        const sub = run(r.to!, depth + 1);
        if (sub !== 'return') return sub;
        if (r.target === 'GOTO') return 'return'; // back to this chain's caller
      }
      // LOG, MARK: go on
    }
    return 'return';
  };
  const res = run('INPUT', 0);
  if (res === 'return') return { verdict: rs.policy === 'ACCEPT' ? 'accept' : 'drop', path };
  return { rule: res.rule, verdict: verdictOf(res.rule), path };
}

export function verdictOf(r: GenRule): 'accept' | 'drop' | 'reject' {
  return r.target === 'ACCEPT' ? 'accept' : r.target === 'DROP' ? 'drop' : 'reject';
}
