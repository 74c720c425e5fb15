// The syntax tree of an iptables-save / iptables-restore file. Every node keeps its source
// position: nodes carry the 0-based line and tokens carry character offsets within that line
// (see `tokenRange`). Option values are parsed once, by the parser, into the shapes below, so
// that lowering into the model does not re-read text.
import type { Finding } from '../../model/finding';
import type { Action, Condition, Family, IntRange, Range } from '../../model/policy';
import type { AddrValue } from './addresses';
import type { IcmpValue } from './icmp';
import type { Token } from './lexer';

export type { Token } from './lexer';

export interface IptablesFile {
  /** Address family the file is read as (iptables-restore: 4, ip6tables-restore: 6). */
  family: Family;
  /** Where `family` came from: the caller, the file's content, or the default (4). */
  familySource: 'caller' | 'content' | 'default';
  /** `*table` … `COMMIT` blocks in source order. */
  tables: TableNode[];
  /** Syntax errors and warnings; lines are 0-based. */
  findings: Finding[];
  lineCount: number;
}

export interface TableNode {
  name: string;
  line: number;
  /** The whole `*name` line. */
  headerRange: Range;
  nameRange: Range;
  /** Line of `COMMIT`, absent when it is missing. */
  commitLine?: number;
  /** From the header to the end of COMMIT (or to the table's last line when COMMIT is missing). */
  range: Range;
  /** `:CHAIN POLICY [packets:bytes]` lines in source order. */
  declarations: ChainDeclNode[];
  /** Command lines in source order, including ones with errors (`ok: false`). */
  commands: CommandNode[];
  /** The chains as iptables-restore leaves them at COMMIT: built-in ones first, rules in final order. */
  chains: Map<string, ChainNode>;
  /** A later `*name` block for the same table replaces this one (iptables-restore flushes the table). */
  replacedBy?: number;
}

export interface ChainDeclNode {
  line: number;
  /** The whole declaration line. */
  range: Range;
  name: string;
  nameToken: Token;
  /** The policy word as written (`ACCEPT`, `DROP`, `-`). */
  policy?: string;
  policyToken?: Token;
  countersToken?: Token;
  builtin: boolean;
  ok: boolean;
}

export interface ChainNode {
  name: string;
  builtin: boolean;
  /** Built-in chains: the policy in force at COMMIT (iptables-nft creates undeclared ones with ACCEPT). */
  policy?: 'ACCEPT' | 'DROP';
  /** Line and token of the policy in force (`:INPUT DROP` or `-P INPUT DROP`). */
  policyLine?: number;
  policyToken?: Token;
  /** Line and token of the chain's (last) declaration; absent for built-in chains never named. */
  declLine?: number;
  declToken?: Token;
  rules: RuleNode[];
}

export type CommandNode = RuleNode | ChainCommandNode;

interface LineNode {
  line: number;
  /** The whole line, without its line break. */
  range: Range;
  /** The line's text without its line break. */
  text: string;
  /** The words of the command (after a `[packets:bytes]` prefix). */
  readonly tokens: Token[];
  /** False when the line has an error: iptables-restore would refuse the file. */
  ok: boolean;
  /** The line names the other address family (`-6` in an IPv4 file): iptables-restore skips it. */
  skipped?: boolean;
}

/**
 * `-A`, `-I`, `-R`, `-D`, `-C`: a command that carries a rule. To keep large files small in
 * memory, `tokens`, `options` and `matches` of rules read from a file are computed again from
 * the line on first access; `meaning` is what lowering needs, computed while parsing.
 */
export interface RuleNode extends LineNode {
  kind: 'rule';
  command: 'A' | 'I' | 'R' | 'D' | 'C';
  commandToken?: Token;
  chain: string;
  chainToken?: Token;
  /** `-I CHAIN n`, `-R CHAIN n`, `-D CHAIN n`. */
  ruleNumber?: number;
  ruleNumberToken?: Token;
  /** `[packets:bytes]` before the command (iptables-save -c). */
  countersToken?: Token;
  /** Options of the rule itself: -s -d -p -i -o -f, in the order written. */
  readonly options: OptionNode[];
  /** Match extensions in order; the implicit protocol match appears where iptables loads it. */
  readonly matches: MatchNode[];
  target?: TargetNode;
  /** The rule in model terms; absent when the line has an error or is skipped. */
  meaning?: RuleMeaning;
}

/** What a rule means, in the model's terms (see lower-rule.ts). */
export interface RuleMeaning {
  conditions: Condition[];
  action: Action;
  comment?: string;
  /** Equal for rules of equal conditions (see the model's `Rule.key`); set when a parse cache is used. */
  key?: string;
}

/** -N -X -F -P -E -Z -L -S. */
export interface ChainCommandNode extends LineNode {
  kind: 'chain-command';
  command: 'N' | 'X' | 'F' | 'P' | 'E' | 'Z' | 'L' | 'S';
  commandToken?: Token;
  chain?: string;
  chainToken?: Token;
  /** -P: the policy; -E: the new name. */
  argToken?: Token;
}

export interface OptionNode {
  /** Canonical long name: `source`, `protocol`, `destination-port`, `ctstate`, … */
  name: string;
  /** The option word as written (`-s`, `--dport`, `--dport=22`'s `--dport` part). */
  flag: Token;
  /** The `!` in front of the option. */
  not?: Token;
  args: Token[];
  value?: OptionValue;
}

export type OptionValue =
  | { kind: 'addrs'; addrs: AddrValue[] }
  | { kind: 'proto'; proto: number }
  | { kind: 'iface'; name: string }
  | { kind: 'ports'; ranges: IntRange[] }
  | { kind: 'icmp'; icmp: IcmpValue }
  | { kind: 'states'; states: string[] }
  | { kind: 'range'; family: Family; first: number | bigint; last: number | bigint }
  | { kind: 'text'; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'flag' };

export interface MatchNode {
  /** Extension name as iptables resolves it (`icmp6` for `-m icmpv6`). */
  module: string;
  /** `-m`/`--match`; absent for a match loaded implicitly by `-p tcp --dport …`. */
  flag?: Token;
  nameToken?: Token;
  implicit: boolean;
  options: OptionNode[];
  /** The model cannot see what this match tests (rate limits, marks, sets, …). */
  opaque: boolean;
  /** Firewall Lens has no option table for this extension: its options were taken as written. */
  unknown?: boolean;
}

export interface TargetNode {
  kind: 'jump' | 'goto';
  /** `-j`, `--jump`, `-g`, `--goto`. */
  flag: Token;
  nameToken: Token;
  name: string;
  /** A built-in verdict, a target extension, or a user-defined chain. */
  type: 'standard' | 'extension' | 'chain';
  options: OptionNode[];
}

/** The range of a token of line `line`. */
export function tokenRange(line: number, tok: { start: number; end: number }): Range {
  return { start: { line, character: tok.start }, end: { line, character: tok.end } };
}

export function lineRange(line: number, start: number, end: number): Range {
  return { start: { line, character: start }, end: { line, character: end } };
}
