// The rule-order findings: shadowed and redundant rules, catch-all drops, lockouts, world-open ports.
// Every claim about "all packets" is checked against `must` sets for what decides and `may` sets for
// what could arrive, and a question that exceeds its budget claims nothing (DESIGN.md, soundness).
import type { Chain, Condition, Entry, Policy, Rule } from '../model/policy';
import { Finding, finding } from '../model/finding';
import { Box, coalesce, containsPoint, intersect, overlaps } from '../packets/boxes';
import { reachingSet } from './explain';
import { D } from '../packets/space';
import { serviceName, SENSITIVE_PORTS } from '../packets/services';
import type { Compiled } from './compile';
import { ChainReach, ChainSummaries, Resolve } from './reach';
import { lineRef, ruleLabel } from './labels';

export interface AnomalyOptions {
  sensitivePorts?: readonly number[];
  /** Ports that count as remote administration for `lockout` (default: ssh). */
  adminPorts?: readonly number[];
}

export interface ChainFacts {
  reach: ChainReach;
  /** Rules no packet can reach. */
  unreachable: Set<Rule>;
}

export function findAnomalies(policy: Policy, compiled: Compiled, resolve: Resolve, opts: AnomalyOptions = {}): { findings: Finding[]; facts: Map<Chain, ChainFacts> } {
  const summaries = new ChainSummaries(compiled, resolve);
  const findings: Finding[] = [];
  const facts = new Map<Chain, ChainFacts>();
  // "No way in at all" is about input: a FORWARD chain that refuses everything is a host that does not route.
  const inputChains = new Set(policy.entries.filter((e) => /^input$/i.test(e.name)).flatMap((e) => e.stages));
  for (const table of policy.tables) {
    for (const chain of table.chains.values()) {
      const reach = new ChainReach(chain, compiled, resolve, summaries);
      const unreachable = new Set<Rule>();
      facts.set(chain, { reach, unreachable });
      checkOrder(chain, reach, compiled, unreachable, findings);
      checkCatchAll(chain, reach, compiled, resolve, summaries, inputChains.has(chain), unreachable, findings);
    }
  }
  for (const entry of policy.entries) {
    if (/^input$/i.test(entry.name)) checkLockout(entry, policy, compiled, resolve, facts, opts, findings);
    if (/^(input|forward)$/i.test(entry.name)) checkOpenToWorld(entry, compiled, resolve, facts, opts, findings);
  }
  return { findings, facts };
}

function checkOrder(chain: Chain, reach: ChainReach, compiled: Compiled, unreachable: Set<Rule>, findings: Finding[]): void {
  // One line can be several rules (iptables makes one per address of `-s a,b`); a line is only
  // reported when every rule made of it is unreachable.
  const out: Finding[] = [];
  checkRules(chain, reach, compiled, unreachable, out);
  if (out.length === 0) return;
  const key = (r: { range: Rule['range'] }) => `${r.range.start.line}:${r.range.start.character}`;
  // Only the lines of findings need their siblings.
  const lines = new Set(out.map((f) => f.range.start.line));
  const siblings = new Map<string, Rule[]>();
  for (const r of chain.rules) {
    if (!lines.has(r.range.start.line)) continue;
    const k = key(r);
    const list = siblings.get(k);
    if (list) list.push(r);
    else siblings.set(k, [r]);
  }
  const reported = new Set<string>();
  for (const f of out) {
    const k = key(f);
    if (reported.has(k) || !siblings.get(k)!.every((r) => unreachable.has(r))) continue;
    reported.add(k);
    findings.push(f);
  }
}

// The loops of the checks run once per rule and leave the wording of a finding to a function of
// its own: small loops are optimised sooner and compile faster.
function checkRules(chain: Chain, reach: ChainReach, compiled: Compiled, unreachable: Set<Rule>, out: Finding[]): void {
  const rules = chain.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const { may } = compiled.sets.get(rule)!;
    if (may.length === 0) continue;
    const takenBy = reach.coveredBy(may, rule.index);
    if (!takenBy) continue;
    unreachable.add(rule);
    reportOrder(chain, rule, takenBy, out);
  }
}

/** Reports an unreachable rule as redundant (the same verdict decides it) or shadowed. */
function reportOrder(chain: Chain, rule: Rule, takenBy: number[], out: Finding[]): void {
  const takers = takenBy.map((i) => chain.rules[i]);
  const related = takers.slice(0, 10).map((t) => ({ range: t.range, message: `decided here: ${ruleLabel(t)}` }));
  const a = rule.action;
  const same = a.kind === 'verdict' && takers.every((t) => t.action.kind === 'verdict' && t.action.verdict === a.verdict);
  const by = takers.slice(0, 3).map((t) => lineRef(t)).join(', ') + (takers.length > 3 ? ` and ${takers.length - 3} more` : '');
  if (same) {
    out.push(finding('redundant-rule', `Redundant: every packet this rule matches is already ${verb(a.verdict)} by ${by}; removing it changes nothing.`, rule.range, {
      related, unnecessary: true, data: { chain: chain.name, table: chain.table, rule: rule.index, by: takenBy },
    }));
  } else {
    out.push(finding('shadowed-rule', `Shadowed: no packet can reach this rule; ${by} ${takers.length > 1 ? 'decide' : 'decides'} all of it first.`, rule.range, {
      related, data: { chain: chain.name, table: chain.table, rule: rule.index, by: takenBy },
    }));
  }
}

function verb(v: string): string {
  return v === 'accept' ? 'accepted' : v === 'drop' ? 'dropped' : 'rejected';
}

/** Denies every packet it gets: a DROP/REJECT, or a jump to a chain that can only deny. */
function deniesAll(rule: Rule, resolve: Resolve, summaries: ChainSummaries): boolean {
  const a = rule.action;
  if (a.kind === 'verdict') return a.verdict !== 'accept';
  if (a.kind === 'jump' || a.kind === 'goto') {
    const t = resolve(rule.table, a.chain);
    if (!t) return false;
    const s = summaries.get(t);
    return s.decidesAll && s.neverAccepts;
  }
  return false;
}

function mayAllow(rule: Rule, resolve: Resolve, summaries: ChainSummaries): boolean {
  const a = rule.action;
  if (a.kind === 'verdict') return a.verdict === 'accept';
  if (a.kind === 'jump' || a.kind === 'goto') {
    const t = resolve(rule.table, a.chain);
    return !!t && !summaries.get(t).neverAccepts;
  }
  return false;
}

/** Earlier rules a catch-all question looks at: a deny that only earlier rules make total is rare. */
const CATCH_ALL_CANDIDATES = 64;

function checkCatchAll(chain: Chain, reach: ChainReach, compiled: Compiled, resolve: Resolve, summaries: ChainSummaries, isInput: boolean, unreachable: Set<Rule>, out: Finding[]): void {
  const corners = compiled.space.corners();
  // The first rule that takes each corner of the universe (Infinity: none), found once per chain.
  let cornerTakers: number[] | undefined;
  const rules = chain.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (unreachable.has(rule) || !deniesAll(rule, resolve, summaries)) continue;
    const { must } = compiled.sets.get(rule)!;
    // It takes everything that can reach it: nothing outside `must` gets past the earlier rules.
    // A corner of the universe outside `must` that no earlier rule takes disproves that cheaply.
    cornerTakers ??= corners.map((p) => reach.index.firstCovering(p) ?? Infinity);
    if (cornerGetsPast(must, corners, cornerTakers, rule.index)) continue;
    const outside = compiled.space.complement(must);
    if (outside.length) {
      if (!reach.coveredBy(outside, rule.index, CATCH_ALL_CANDIDATES)) continue;
    }
    reportCatchAll(chain, rule, resolve, summaries, isInput, out);
  }
}

/** Reports a deny that takes all that reaches it, unless it is the ordinary final default-deny. */
function reportCatchAll(chain: Chain, rule: Rule, resolve: Resolve, summaries: ChainSummaries, isInput: boolean, out: Finding[]): void {
  const later = chain.rules.slice(rule.index + 1).filter((r) => mayAllow(r, resolve, summaries));
  const before = chain.rules.slice(0, rule.index);
  const noWayIn = isInput && !before.some((r) => mayAllow(r, resolve, summaries));
  if (!later.length && !noWayIn) return; // the ordinary final default-deny
  const related = later.slice(0, 10).map((r) => ({ range: r.range, message: `never reached: ${ruleLabel(r)}` }));
  const hides = later.length
    ? ` The ${later.length} rule${later.length > 1 ? 's' : ''} after it that would allow traffic (${later.slice(0, 3).map(lineRef).join(', ')}${later.length > 3 ? ', …' : ''}) can never match.`
    : '';
  const message = `Catch-all ${rule.action.kind === 'verdict' ? rule.action.verdict.toUpperCase() : 'deny'}: this rule matches every packet that reaches it in ${chain.name}` +
    (noWayIn ? ', and no rule before it accepts anything: nothing gets in.' : '.') + hides;
  out.push(finding('catch-all-drop', message, rule.range, {
    related, data: { chain: chain.name, table: chain.table, rule: rule.index, hides: later.map((r) => r.index), noWayIn },
  }));
}

/** Whether a corner outside `set` is taken by no rule before `before` (`takers`: the first rule taking each). */
function cornerGetsPast(set: Box[], corners: readonly (readonly number[])[], takers: readonly number[], before: number): boolean {
  for (let k = 0; k < corners.length; k++) if (!containsPoint(set, corners[k]) && takers[k] >= before) return true;
  return false;
}

/** Chains reachable from an entry, the entry's stages first. */
export function reachableChains(entry: Entry, resolve: Resolve): Chain[] {
  const seen = new Set<Chain>();
  const stack = [...entry.stages].reverse();
  while (stack.length) {
    const c = stack.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    const rules = c.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (r.action.kind === 'jump' || r.action.kind === 'goto') {
        const t = resolve(r.table, r.action.chain);
        if (t && !seen.has(t)) stack.push(t);
      }
    }
  }
  return [...seen];
}

/** Linux's default ip_local_port_range: where replies to the host's own connections arrive. */
const EPHEMERAL = { lo: 32768, hi: 60999 };

function checkLockout(entry: Entry, policy: Policy, compiled: Compiled, resolve: Resolve, facts: Map<Chain, ChainFacts>, opts: AnomalyOptions, out: Finding[]): void {
  const space = compiled.space;
  // Default-deny: a stage whose policy drops, or whose rules end in an unconditional deny.
  let denyAt: { range: Finding['range']; what: string; stage: Chain; rule?: Rule } | undefined;
  for (const stage of entry.stages) {
    // The first reachable unconditional deny is where the default really is.
    const first = firstDenyOfAll(stage, compiled, facts.get(stage));
    if (first) denyAt = { range: first.range, what: `${ruleLabel(first)}`, stage, rule: first };
    else if (stage.policy && stage.policy !== 'accept') denyAt = { range: stage.policyRange ?? stage.range, what: `the ${stage.name} policy ${stage.policy.toUpperCase()}`, stage };
    if (denyAt) break;
  }
  if (!denyAt) return;
  // Where the deny is, for the fixes: the chain (stage), and the rule when it is one.
  const where = { entry: entry.name, table: denyAt.stage.table, chain: denyAt.stage.name, ...(denyAt.rule ? { denyRule: denyAt.rule.index } : {}) };
  const chains = reachableChains(entry, resolve);
  // Whether a reachable accept rule may take some of `set` (usually one of the first few does).
  const canAccept = (set: Box[]) => chains.some((c) => {
    const unreachable = facts.get(c)?.unreachable;
    return c.rules.some((r) => r.action.kind === 'verdict' && r.action.verdict === 'accept' && !unreachable?.has(r) && overlaps(compiled.sets.get(r)!.may, set));
  });
  // Loopback traffic is the host talking to itself: it is no way in from outside.
  const outside = space.complement(space.interfaces('iif', ['lo']));
  const established = intersect(space.states(['ESTABLISHED']), outside);
  if (!canAccept(established)) {
    out.push(finding('lockout', `Lockout: input is denied by default (${denyAt.what}) and no rule accepts ESTABLISHED traffic: replies to this host's own connections, and the SSH session that loads these rules, will be cut.`, denyAt.range, {
      data: { ...where, kind: 'established' },
    }));
    return;
  }
  // Accepting established traffic to a few services only (`tcp dport 22 accept`) still drops the
  // replies to the host's own connections, which come back to its ephemeral ports.
  const replies = intersect(intersect(established, space.protocols([6, 17])), space.ports('dport', [EPHEMERAL]));
  if (!canAccept(replies)) {
    out.push(finding('lockout', `Lockout: input is denied by default (${denyAt.what}) and no rule accepts ESTABLISHED replies to this host's own connections (to its ports ${EPHEMERAL.lo}-${EPHEMERAL.hi}): DNS, package updates and every outgoing connection will hang. Accept established,related traffic first.`, denyAt.range, {
      data: { ...where, kind: 'established' },
    }));
    return;
  }
  const admin = opts.adminPorts ?? [22];
  const adminSet = intersect(intersect(intersect(space.protocols([6]), space.ports('dport', admin.map((p) => ({ lo: p, hi: p })))), space.states(['NEW'])), outside);
  if (!canAccept(adminSet)) {
    const names = admin.map((p) => `tcp/${p}${serviceName(p) ? ` (${serviceName(p)})` : ''}`).join(', ');
    out.push(finding('lockout', `Lockout: input is denied by default (${denyAt.what}) and no rule accepts new connections to ${names} from anywhere: there is no way back in for remote administration.`, denyAt.range, {
      data: { ...where, kind: 'admin', ports: admin },
    }));
  }
}

/** The first reachable rule of a chain that denies every packet, if any. */
function firstDenyOfAll(chain: Chain, compiled: Compiled, facts: ChainFacts | undefined): Rule | undefined {
  // Such a rule takes every corner of the universe (a deny's leaves are its `must`), so no rule
  // before the first to take the last of them can be one: the search starts there.
  let from = 0;
  if (facts) {
    for (const p of compiled.space.corners()) {
      const taker = facts.reach.index.firstCovering(p);
      if (taker === undefined) return undefined;
      from = Math.max(from, taker);
    }
  }
  const rules = chain.rules;
  for (let i = from; i < rules.length; i++) {
    const r = rules[i];
    if (r.action.kind !== 'verdict' || r.action.verdict === 'accept' || facts?.unreachable.has(r)) continue;
    const s = compiled.sets.get(r)!;
    if (s.exact && compiled.space.isAll(s.must)) return r;
  }
  return undefined;
}

function checkOpenToWorld(entry: Entry, compiled: Compiled, resolve: Resolve, facts: Map<Chain, ChainFacts>, opts: AnomalyOptions, out: Finding[]): void {
  const space = compiled.space;
  const world: WorldQuestion = {
    entry, compiled, resolve,
    sensitive: opts.sensitivePorts ?? SENSITIVE_PORTS,
    lo: space.ifaces.interval('lo'),
    universe: (f: 4 | 6) => space.universeOf(f),
  };
  for (const chain of reachableChains(entry, resolve)) {
    const unreachable = facts.get(chain)?.unreachable;
    const rules = chain.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (rule.action.kind !== 'verdict' || rule.action.verdict !== 'accept') continue;
      if (unreachable?.has(rule)) continue;
      const must = compiled.sets.get(rule)!.must;
      if (someFromAnySource(must, world.universe)) checkWorldOpenRule(world, chain, rule, must, out); // most rules name a source
    }
  }
}

/** What judging one accept rule as open to the world needs. */
interface WorldQuestion {
  entry: Entry;
  compiled: Compiled;
  resolve: Resolve;
  sensitive: readonly number[];
  /** The loopback's interval of the input interface dimension. */
  lo: [number, number];
  universe: (f: 4 | 6) => Box | undefined;
}

const NEW_STATE = 1; // index of NEW in the state dimension

function checkWorldOpenRule(q: WorldQuestion, chain: Chain, rule: Rule, must: Box[], out: Finding[]): void {
  // "Everything from lan0" is how routers let their own network out: without knowing which
  // interface faces the internet, only sensitive ports are worth a warning on such a rule.
  const onInterface = rule.conditions.some(isInputInterface);
  let reason = worldOpenReason(must, q.universe, q.lo, NEW_STATE, q.sensitive, onInterface);
  // A rule in a user chain sees only what the jumps to it let through: judge what reaches it.
  if (reason && !q.entry.stages.includes(chain)) {
    // A partial walk gives part of what reaches the rule: enough to claim that some world traffic
    // does (what it finds is real), never a claim that none does.
    const reaching = intersect(reachingSet(q.compiled, q.resolve, q.entry, rule, { maxWork: REACH_WORK }).set, must);
    reason = worldOpenReason(coalesce(reaching), q.universe, q.lo, NEW_STATE, q.sensitive, onInterface);
  }
  if (!reason) return;
  const srcCond = rule.conditions.find((c) => c.field === 'src');
  out.push(finding('open-to-world', `Open to the world: ${reason} is accepted from any source address.`, srcCond?.range ?? rule.range, {
    data: { chain: chain.name, table: chain.table, rule: rule.index, hasSource: !!srcCond },
  }));
}

function isInputInterface(c: Condition): boolean {
  return c.field === 'iif' && !c.negate;
}

/** Box operations one user-chain rule's reaching set may cost in the open-to-world check. */
const REACH_WORK = 50_000;

function worldOpenReason(must: Box[], universe: (f: 4 | 6) => Box | undefined, lo: [number, number], newState: number, sensitive: readonly number[], onInterface: boolean): string | undefined {
  for (const b of must) {
    if (!fromAnySource(b, universe)) continue;
    if (b[2 * D.state] > newState || b[2 * D.state + 1] < newState) continue;
    if (b[2 * D.iif] >= lo[0] && b[2 * D.iif + 1] <= lo[1]) continue; // loopback only
    const pLo = b[2 * D.proto];
    const pHi = b[2 * D.proto + 1];
    const dLo = b[2 * D.dport];
    const dHi = b[2 * D.dport + 1];
    const portProtos = [6, 17, 132].filter((p) => p >= pLo && p <= pHi);
    if (!portProtos.length) continue;
    if (dLo === 0 && dHi === 65535) {
      if (onInterface) continue;
      return pLo === 0 && pHi === 255 ? 'all traffic (every protocol and port)' : `every ${portProtos.map(protoName).join('/')} port`;
    }
    const hits = sensitive.filter((p) => p >= dLo && p <= dHi);
    if (hits.length) return hits.slice(0, 4).map((p) => `${protoName(portProtos[0])}/${p}${serviceName(p) ? ` (${serviceName(p)})` : ''}`).join(', ');
  }
  return undefined;
}

function someFromAnySource(set: Box[], universe: (f: 4 | 6) => Box | undefined): boolean {
  for (let i = 0; i < set.length; i++) if (fromAnySource(set[i], universe)) return true;
  return false;
}

/** Whether a box allows every source address of its family. */
function fromAnySource(b: Box, universe: (f: 4 | 6) => Box | undefined): boolean {
  const u = universe(b[0] as 4 | 6)!;
  for (let k = 0; k < 4; k++) if (b[2 * (D.src + k)] !== u[2 * (D.src + k)] || b[2 * (D.src + k) + 1] !== u[2 * (D.src + k) + 1]) return false;
  return true;
}

function protoName(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : 'sctp';
}
