// The syntax tree of an nftables ruleset file: what `nft -f` reads, before any name is resolved
// (except `$variables`, which nft itself binds while parsing, in scope order). Every node keeps
// the tokens it came from so that findings land on the exact text.
import type { KeptRule } from './lower-cache';
import type { Token } from './lexer';

/** A node's extent: first and last token (both inclusive). */
export interface Span { first: Token; last: Token }

export type Family = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

// ---- expressions --------------------------------------------------------------------------

/** A packet/metadata selector such as `ip saddr`, `meta l4proto`, `ct original ip daddr`. */
export interface SelectorExpr extends Span {
  t: 'sel';
  /** Normalized key: 'ip saddr', 'meta iifname' (also for the short form `iifname`), 'ct state'. */
  key: string;
  /** The family keyword of `ct original ip saddr` etc. is part of the key. */
  args?: Token[];
  /** The fields `jhash` hashes: they tie the rule to their protocols as a match would. */
  hashed?: Expr;
  /** numgen, jhash, symhash: `mod N [offset M]`, so values run from 0 to M + N - 1. */
  modulus?: { value: bigint; offset: bigint; tok: Token };
  /**
   * A field of a known width without a datatype of its own (`tcp option maxseg size`: 16 bits);
   * 0 for a TCP option named without a field (`tcp option maxseg`: it exists, or not).
   */
  width?: number;
}

/** A literal: word, number, address, quoted string, or a keyword used as a value (`tcp`). */
export interface ValueExpr extends Span { t: 'val'; tok: Token }

export interface VarExpr extends Span {
  t: 'var';
  name: string;
  /** The bound definition (nft binds at parse time); undefined when unknown (already reported). */
  def?: Define;
}

export interface SetRefExpr extends Span { t: 'setref'; name: string; nameTok: Token }

export interface SetElem extends Span {
  key: Expr;
  /** Has its own `timeout`/`expires`: it disappears while packets flow. */
  expires?: boolean;
  /** For maps and verdict maps: the value after ':'. */
  value?: Expr | VerdictNode;
}

export interface SetExpr extends Span { t: 'set'; elems: SetElem[] }
export interface PrefixExpr extends Span { t: 'prefix'; base: Expr; len: Token }
export interface RangeExpr extends Span { t: 'range'; lo: Expr; hi: Expr }
export interface ConcatExpr extends Span { t: 'concat'; parts: Expr[] }
/** `a, b, c` without braces (ct state established,related). */
export interface ListExpr extends Span { t: 'list'; items: Expr[] }
export interface BinopExpr extends Span { t: 'binop'; op: string; left: Expr; right: Expr }
/** `expr map { ... }` / `expr map @m`. */
export interface MapExpr extends Span { t: 'map'; key: Expr; map: Expr }
/** The catch-all element `*`. */
export interface WildExpr extends Span { t: 'wild' }
/** An expression we parse but never look into (numgen, jhash, osf, ...). */
export interface OtherExpr extends Span { t: 'other'; what: string }

export type Expr =
  | SelectorExpr | ValueExpr | VarExpr | SetRefExpr | SetExpr | PrefixExpr | RangeExpr
  | ConcatExpr | ListExpr | BinopExpr | MapExpr | WildExpr | OtherExpr;

// ---- statements ---------------------------------------------------------------------------

export interface VerdictNode extends Span {
  t: 'verdict';
  kind: 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto';
  /** jump/goto target: a chain name token or a variable. */
  target?: Expr;
}

/** `!` is nft's bitmask negation (ct state ! established), not `!=`. */
export type RelOp = 'implicit' | '==' | '!=' | '!' | '<' | '>' | '<=' | '>=';

export interface MatchStmt extends Span { s: 'match'; left: Expr; op: RelOp; right: Expr; opTok?: Token; flags?: Expr }
export interface VerdictStmt extends Span { s: 'verdict'; verdict: VerdictNode }
export interface VmapStmt extends Span { s: 'vmap'; key: Expr; map: Expr }
/** An anonymous chain: `jump { ... }`. */
export interface ChainStmt extends Span { s: 'chain'; kind: 'jump' | 'goto'; rules: RuleNode[] }
export interface RejectStmt extends Span { s: 'reject'; with?: { family: 'icmp' | 'icmpv6' | 'icmpx' | 'tcp'; value?: Expr } }
/** Statements that are no condition and no verdict, or whose effect we only name. */
export interface OtherStmt extends Span {
  s: 'other';
  /** counter, log, limit, quota, nat, masquerade, redirect, queue, notrack, set-field, dynset, meter, ... */
  what: string;
  /** Whether it may fail to match (limit, quota, ct count, meter): lowers to an opaque condition. */
  matches?: boolean;
  /** Ends the rule's evaluation (nat statements, queue, fwd). */
  terminal?: boolean;
  /** Sets it fills (`add @s { ip saddr }`, `set update ip saddr @s`): they become dynamic. */
  fills?: SetRefExpr[];
  /** Named objects it refers to (`counter name x`). */
  objRef?: { kind: string; name: Expr };
  /** Expressions inside it (meta set values, set keys...). */
  exprs?: Expr[];
  /** snat/dnat/masquerade/redirect: the family keyword, the address and the port given. */
  nat?: { family?: Token; addr?: Expr; port?: Expr };
  /** A meter's name: the set it makes in the table. */
  meter?: Token;
}

export type Stmt = MatchStmt | VerdictStmt | VmapStmt | ChainStmt | RejectStmt | OtherStmt;

export interface RuleNode extends Span {
  stmts: Stmt[];
  comment?: string;
  /** The defines its variables (`$x`) stand for, in the order it names them: its meaning depends on them. */
  vars: readonly Define[];
  /**
   * A rule of a chain block alone on its line, read without any problem: when it is kept, the next
   * version's parser may skip its text (lower-cache.ts).
   */
  wholeLine: boolean;
  /** Skipped by the parser (no `stmts`): the lowering kept from the document's previous version. */
  kept?: KeptRule;
}

// ---- declarations and commands -------------------------------------------------------------

export interface Define {
  name: string;
  nameTok: Token;
  value: Expr;
  /** The defines its value names (`define B = { $A, 10.0.0.1 }`). */
  uses: readonly Define[];
  /** 'define' binds once; 'redefine' rebinds. */
}

export interface HookSpec extends Span {
  typeTok: Token;
  hookTok: Token;
  device?: Expr;
  prioTokens: Token[];
  /** The priority as written: a number, a name with optional +/- offset, or a variable. */
  prio: { num?: number; name?: Token; offset?: number; variable?: VarExpr };
}

export interface ChainDecl extends Span {
  nameTok: Token;
  hook?: HookSpec;
  policy?: { value: Token | VarExpr; span: Span };
  rules: RuleNode[];
  comment?: string;
  /** `{ ... }` given (add chain without a block only creates the chain). */
  hasBlock: boolean;
  /** The block's '}' was missing (already reported). */
  unclosed?: boolean;
}

export interface SetDecl extends Span {
  kind: 'set' | 'map';
  nameTok: Token;
  /** `type a . b` words (datatype names). */
  typeToks?: Token[];
  /** `typeof` expressions (concatenation parts). */
  typeofExprs?: Expr[];
  /** Map data type: datatype words, `verdict`, or typeof expression. */
  dataToks?: Token[];
  dataTypeof?: Expr;
  dataInterval?: boolean;
  flags: { tok: Token; name: string }[];
  elements?: SetExpr | VarExpr;
  autoMerge?: Token;
  hasTimeout?: boolean;
  /** `gc-interval` given (it needs timeouts). */
  gcInterval?: Token;
  /** Stateful statements in the declaration (counter, quota, limit). */
  stateful?: boolean;
  /** The block's '}' was missing (already reported). */
  unclosed?: boolean;
}

export interface ObjDecl extends Span { kind: string; nameTok: Token }
export interface FlowtableDecl extends Span { nameTok: Token }

export type TableItem =
  | { i: 'chain'; chain: ChainDecl }
  | { i: 'set'; set: SetDecl }
  | { i: 'obj'; obj: ObjDecl }
  | { i: 'flowtable'; ft: FlowtableDecl }
  | { i: 'flags'; span: Span }
  | { i: 'comment'; span: Span };

export interface TableRef { familyTok?: Token; family: Family; nameTok: Token }

/** The model's name of a table: `family name` (the evaluator's TableState.key). */
export function tableKey(ref: TableRef): string {
  return `${ref.family} ${ref.nameTok.text}`;
}

export type Command =
  | { c: 'table'; op: 'add' | 'create'; ref: TableRef; items: TableItem[] | undefined; span: Span }
  | { c: 'chain'; op: 'add' | 'create'; ref: TableRef; chain: ChainDecl; span: Span }
  | { c: 'rule'; op: 'add' | 'insert' | 'replace'; ref: TableRef; chainTok: Token; rule: RuleNode; position?: { kind: 'handle' | 'position' | 'index'; tok: Token }; span: Span }
  | { c: 'set'; op: 'add' | 'create'; ref: TableRef; set: SetDecl; span: Span }
  | { c: 'element'; op: 'add' | 'create' | 'delete' | 'get'; ref: TableRef; setTok: Token; elems: SetExpr | VarExpr; span: Span }
  | { c: 'obj'; op: 'add' | 'create' | 'delete'; ref: TableRef; obj: ObjDecl; span: Span }
  | { c: 'flowtable'; op: 'add' | 'create' | 'delete'; ref: TableRef; nameTok: Token; span: Span }
  | { c: 'delete'; what: 'table' | 'chain' | 'rule' | 'set' | 'map'; ref: TableRef; nameTok?: Token; handleTok?: Token; span: Span }
  | { c: 'flush'; what: 'ruleset' | 'table' | 'chain' | 'set' | 'map' | 'meter'; family?: Family; ref?: TableRef; nameTok?: Token; span: Span }
  | { c: 'rename'; ref: TableRef; chainTok: Token; newTok: Token; span: Span }
  /** list, reset, monitor, export, import, describe, get: no effect on a ruleset being loaded. */
  | { c: 'noop'; what: string; span: Span };

export interface NftFile {
  commands: Command[];
}
