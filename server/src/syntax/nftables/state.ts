// The ruleset as `nft -f` builds it while it reads the file: tables with their chains, sets and
// objects, in command order (a rule may only refer to what exists by then, except that a
// table block's own chains and sets all exist before its rules). Shared by the evaluation of
// commands (evaluate.ts) and of rules (rules.ts).
import type { Action, Condition, Range } from '../../model/policy';
import type { ChainDecl, Family, HookSpec, RuleNode, SetDecl, Span } from './ast';
import type { Token } from './lexer';

export interface TypeInfo {
  dtype: string;
  bits: number;
}

/** One value of a set element or match, resolved: an integer/address range or a name. */
export type ValueItem =
  | { kind: 'range'; lo: bigint; hi: bigint; family?: 4 | 6 }
  | { kind: 'str'; value: string; wildcard: boolean };

export interface VerdictValue {
  kind: 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto';
  chain?: string;
}

export interface ResolvedElem {
  /** One item per concatenation part. */
  key: ValueItem[];
  /** The catch-all element `*`. */
  wild?: boolean;
  data?: VerdictValue | ValueItem[];
  /** Where the element is written (its range is computed only when a finding needs it). */
  at: Span;
}

export interface SetState {
  name: string;
  decl: SetDecl;
  isMap: boolean;
  keyTypes?: TypeInfo[];
  /** Map data: a datatype, verdicts, or stateful objects. */
  data?: TypeInfo | 'verdict' | 'object';
  flags: Set<string>;
  /** Filled or emptied by the ruleset itself (dynamic flag, timeouts, add/update statements). */
  dynamic: boolean;
  elements: ResolvedElem[];
  /** Some element carries its own timeout (it expires). */
  expiring: boolean;
  /** Referenced by a rule (a constant set then cannot change). */
  bound?: boolean;
}

/** A rule after lowering: one model rule per verdict of a verdict map, else one. */
export interface LoweredRule {
  node: RuleNode;
  range: Range;
  text: string;
  comment?: string;
  variants: { conditions: Condition[]; action: Action }[];
  /** Depends on named sets (lowered again once all sets have their final contents). */
  usesSet?: boolean;
  /** Read nothing but its own tokens and the table's family (no set, chain, object or variable). */
  pure?: boolean;
  /** The `Rule.key` of each variant, when the document's lowering cache keeps the rule (lower-cache.ts). */
  keys?: string[];
}

export interface ChainState {
  name: string;
  nameTok: Token;
  /** The name's range (or the include directive's). */
  range: Range;
  decl: ChainDecl;
  table: TableState;
  hook?: HookSpec;
  type?: string;
  hookName?: string;
  /** The `type ... hook ... priority ...` declaration. */
  hookRange?: Range;
  priority?: number;
  policy?: 'accept' | 'drop';
  policyRange?: Range;
  rules: LoweredRule[];
  /** Creation order across the file (ties between equal priorities). */
  order: number;
  /** Anonymous chain (`jump { ... }`). */
  anonymous?: boolean;
}

export interface TableState {
  family: Family;
  name: string;
  /** `family name`: the model's table name. */
  key: string;
  nameTok: Token;
  range: Range;
  chains: Map<string, ChainState>;
  sets: Map<string, SetState>;
  /** Named stateful objects: name → kind (counter, quota, limit, ...). */
  objs: Map<string, string>;
  flowtables: Set<string>;
  /** Meters by name, with the name token of the statement that made each (a meter is a set of the table). */
  meters: Map<string, Token>;
  order: number;
}

export function familiesOf(f: Family): (4 | 6)[] {
  if (f === 'ip') return [4];
  if (f === 'ip6') return [6];
  return [4, 6];
}
