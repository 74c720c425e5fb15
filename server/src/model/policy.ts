// The normalized policy: what every format lowers into and what the analysis reads.
// It knows nothing of file formats (the syntax layer lowers into it) nor of packet sets
// (the analysis compiles conditions into them).

/** 0-based, as in LSP. */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export type Family = 4 | 6;
export type Verdict = 'accept' | 'drop' | 'reject';

/** Connection-tracking states, as conntrack names them. */
export type ConnState = 'INVALID' | 'NEW' | 'ESTABLISHED' | 'RELATED' | 'UNTRACKED';
export const CONN_STATES: readonly ConnState[] = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'];

/** An inclusive address range of one family (a prefix is a range too). */
export interface AddrRange { family: Family; first: bigint; last: bigint }

/** Inclusive integer range (ports, ICMP type/code keys). */
export interface IntRange { lo: number; hi: number }

/**
 * One condition of a rule's match. A rule matches when all its conditions hold (AND);
 * within a condition the listed values are alternatives (OR); `negate` inverts the whole
 * condition. `range` is the source text the condition came from, for hovers and fixes.
 */
export type Condition =
  | { field: 'src' | 'dst'; negate: boolean; addrs: AddrRange[]; range?: Range }
  | { field: 'proto'; negate: boolean; protos: number[]; range?: Range }
  | { field: 'sport' | 'dport'; negate: boolean; ports: IntRange[]; range?: Range }
  /** ICMP/ICMPv6 type and code packed as type*256+code; a type without code is [t*256, t*256+255]. */
  | { field: 'icmp'; negate: boolean; keys: IntRange[]; range?: Range }
  /** Interface names; a trailing '+' is iptables' prefix wildcard ('eth+'). */
  | { field: 'iif' | 'oif'; negate: boolean; names: string[]; range?: Range }
  | { field: 'state'; negate: boolean; states: ConnState[]; range?: Range }
  | { field: 'family'; negate: boolean; families: Family[]; range?: Range }
  /** Disjunction of conjunctions: nftables concatenations and set lookups lower into this. */
  | { field: 'any'; negate: boolean; alternatives: Condition[][]; range?: Range }
  /**
   * Something the analysis cannot see (rate limits, `-m recent`, ipsets, marks, fib...).
   * It may or may not hold for any packet: the analysis must stay sound around it.
   */
  | { field: 'opaque'; negate: boolean; what: string; range?: Range };

export type Action =
  | { kind: 'verdict'; verdict: Verdict; range?: Range }
  | { kind: 'jump'; chain: string; range?: Range }
  | { kind: 'goto'; chain: string; range?: Range }
  | { kind: 'return'; range?: Range }
  /** Non-terminal (LOG, MARK, counter...): evaluation continues with the next rule. */
  | { kind: 'continue'; target: string; range?: Range };

export interface Rule {
  /** Index in its chain (0-based). */
  index: number;
  chain: string;
  table: string;
  conditions: Condition[];
  action: Action;
  /** The whole rule in the source. */
  range: Range;
  /** Source text of the rule, single line, for messages. */
  text: string;
  comment?: string;
  /**
   * Set by a front-end that can promise it: rules with equal keys have equal conditions (ranges
   * aside), so the analysis may reuse what it computed for one of them from an earlier version.
   */
  key?: string;
}

export interface Chain {
  name: string;
  table: string;
  /** Built-in/base chains have a policy; user chains end in an implicit return. */
  policy?: Verdict;
  /** Range of the policy declaration (or the chain declaration when no separate token). */
  policyRange?: Range;
  /** Range of the chain's declaration (name token). */
  range: Range;
  rules: Rule[];
  /** nftables: hook and priority of a base chain. */
  hook?: string;
  priority?: number;
  family?: Family | 'both';
}

/**
 * A place where packets enter the policy (iptables: filter INPUT; nftables: the input hook of a
 * family). `stages` run in order: a drop or reject in any stage is final, an accept ends only that
 * stage (nftables base chains on one hook); iptables entries have a single stage.
 */
export interface Entry {
  name: string;
  stages: Chain[];
  /** Families this entry sees (an inet table sees both). */
  families: Family[];
}

export interface Table {
  name: string;
  family: string;
  chains: Map<string, Chain>;
  range: Range;
}

export interface Policy {
  format: 'iptables' | 'nftables';
  /** Families the whole file is about. */
  families: Family[];
  tables: Table[];
  entries: Entry[];
  /** Entry used when the user names none (filter INPUT / input hook). */
  defaultEntry?: string;
}

export function allRules(policy: Policy): Rule[] {
  const out: Rule[] = [];
  for (const t of policy.tables) for (const c of t.chains.values()) out.push(...c.rules);
  return out;
}

export function findChain(policy: Policy, table: string, name: string): Chain | undefined {
  return policy.tables.find((t) => t.name === table)?.chains.get(name);
}
