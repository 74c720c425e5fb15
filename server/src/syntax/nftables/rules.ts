// One rule, checked the way nft evaluates it and lowered into model conditions and actions.
//
// Checks: selector values (via values.ts), set references and their types, protocol conflicts
// (`udp dport` after `ip protocol tcp`, `ip6 saddr` in an ip table), statements after a verdict,
// jump targets. Lowering: each match becomes conditions — a header field implies its protocol
// (`tcp dport 22` ⇒ tcp) and, in an inet table, its family (`ip saddr` ⇒ IPv4); what the model
// cannot express (marks, rates, fib, dynamic sets...) becomes an `opaque` condition so that the
// analysis stays sound. A verdict map becomes one model rule per verdict, in element order: the
// keys of a map are disjoint, so this keeps first-match semantics.
import type { Action, Condition, Range } from '../../model/policy';
import type { ChainStmt, Expr, MapExpr, MatchStmt, OtherStmt, RejectStmt, RuleNode, SelectorExpr, Span, Stmt, VerdictNode, VmapStmt } from './ast';
import { keyParts, Lowered, lowerSelector, mergeable, mergeConditions, PORTED } from './conditions';
import { BITMASK_TYPES } from './datatypes';
import type { Token } from './lexer';
import { CT_DIR_KEYS, CT_KEYS, FieldInfo, L4_PROTO, META_KEYS, PAYLOAD_FIELDS } from './keywords';
import type { ChainState, LoweredRule, ResolvedElem, SetState, TableState, TypeInfo, ValueItem, VerdictValue } from './state';
import { Report, typeName, ValueError, ValueResolver } from './values';
import { dict } from '../../model/dict';

export interface RuleEnv {
  report: Report;
  reportAt: (code: 'invalid-value', message: string, at: Range) => void;
  rangeOf: (s: Span | Token) => Range;
  /**
   * The range from one token to another. Hot paths read a node's `first` and `last` themselves:
   * a property load that sees one or a few node shapes stays fast, where rangeOf's sees them all.
   */
  rangeBetween: (first: Token, last: Token) => Range;
  /** The rule's source text on one line. */
  textOf: (s: Span) => string;
  table: TableState;
  chain: ChainState;
  /** Creates the chain of a `jump { ... }` and lowers its rules. */
  anonymousChain: (parent: ChainState, stmt: ChainStmt) => ChainState | undefined;
}

const OTHER_SELECTORS: Readonly<Record<string, FieldInfo | undefined>> = dict({
  'fib type': { dtype: 'fib_addrtype', bits: 32 }, 'fib oif': { dtype: 'iface_index', bits: 32 }, 'fib oifname': { dtype: 'ifname', bits: 128 },
  'rt classid': { dtype: 'realm', bits: 32 }, 'rt nexthop': { dtype: 'invalid', bits: 0 }, 'rt mtu': { dtype: 'integer', bits: 16 },
  'rt ipsec': { dtype: 'boolean', bits: 8 }, 'socket transparent': { dtype: 'integer', bits: 8 }, 'socket mark': { dtype: 'mark', bits: 32 },
  'socket wildcard': { dtype: 'integer', bits: 8 }, 'socket cgroupv2': { dtype: 'integer', bits: 64 }, osf: { dtype: 'string', bits: 128 },
  numgen: { dtype: 'integer', bits: 32 }, jhash: { dtype: 'integer', bits: 32 }, symhash: { dtype: 'integer', bits: 32 },
});

const selectorCache = new Map<string, FieldInfo | undefined>();

/** The datatype of what a selector loads; undefined for unknown keys. */
export function selectorInfo(key: string): FieldInfo | undefined {
  if (selectorCache.has(key)) return selectorCache.get(key);
  const [a, ...rest] = key.split(' ');
  const b = rest.join(' ');
  let info: FieldInfo | undefined;
  if (a === 'meta') info = META_KEYS[b];
  else if (a === 'ct') info = rest[0] === 'original' || rest[0] === 'reply' ? CT_DIR_KEYS[rest.slice(1).join(' ')] : CT_KEYS[b];
  else if (PAYLOAD_FIELDS[a]?.[b]) info = PAYLOAD_FIELDS[a][b];
  else if (OTHER_SELECTORS[key]) info = OTHER_SELECTORS[key];
  else if (a === 'exthdr') info = { dtype: 'boolean', bits: 8 };
  selectorCache.set(key, info);
  return info;
}

const L4_NAMES: Record<number, string> = Object.fromEntries(Object.entries(L4_PROTO).map(([k, v]) => [v, k]));
/** Selectors whose values name protocols for the rule's context (see updateContext). */
const CONTEXT_KEYS: ReadonlySet<string> = new Set(['ip protocol', 'ip6 nexthdr', 'meta l4proto', 'meta nfproto', 'meta protocol', 'ether type']);
/** Field types whose `set` values are range-checked. */
const SET_CHECKED: ReadonlySet<string> = new Set(['integer', 'mark', 'dscp']);
const TERMINAL_OTHER = new Set(['snat', 'dnat', 'masquerade', 'redirect', 'queue', 'fwd']);

/** Lowers a rule; undefined when it has an error (already reported) and cannot be modelled. */
export function lowerRule(env: RuleEnv, rule: RuleNode): LoweredRule | undefined {
  return new RuleEval(env).run(rule);
}

class RuleEval {
  private readonly values: ValueResolver;
  private errors = 0;
  /**
   * Protocols the rule's matches so far tie it to (nft's protocol context), per layer. A layer
   * is set to a new literal rather than pushed to: a first push reserves 17 slots, per rule.
   */
  private l3: string[] = [];
  private l4: string[] = [];
  /**
   * The transport protocol named last by one value (`ip6 nexthdr tcp`, `udp dport`), what
   * `reject with tcp reset` is checked against: nft keeps all of l4 for conflicts, and this one
   * as the current header. A set of several protocols names none.
   */
  private l4Last?: string;
  /** The network protocol named last (what `reject with icmp/icmpv6` is checked against). */
  private l3Last?: string;
  private readonly conds: Condition[] = [];
  private action?: Action;
  private branches?: { conditions: Condition[]; action: Action }[];
  private terminal?: Stmt;
  private firstEffect?: string;
  /** A named set was looked up: the lowering depends on its final contents. */
  usesSet = false;
  /** A chain, an object or an anonymous chain was looked up or made: not only the rule's own text. */
  private external = false;

  constructor(private readonly env: RuleEnv) {
    const report: Report = (code, message, at, data) => {
      if (code !== 'cidr-host-bits' && code !== 'unsupported') this.errors++;
      env.report(code, message, at, data);
    };
    this.values = new ValueResolver(report, env.rangeOf);
    const fam = env.table.family;
    if (fam === 'ip' || fam === 'ip6' || fam === 'arp') {
      this.l3 = [fam];
      this.l3Last = fam;
    }
  }

  private error(code: 'syntax' | 'invalid-value' | 'undefined-reference', message: string, at: Span, data?: Record<string, unknown>): void {
    this.errors++;
    this.env.report(code, message, at, data);
  }

  run(rule: RuleNode): LoweredRule | undefined {
    for (const stmt of rule.stmts) {
      if (this.terminal) {
        this.error('syntax', 'Statement after terminal statement has no effect', stmt);
        continue;
      }
      try {
        this.statement(stmt);
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
      }
    }
    if (this.errors) return undefined;
    const range = this.env.rangeBetween(rule.first, rule.last);
    const text = this.env.textOf(rule);
    const action: Action = this.action ?? { kind: 'continue', target: this.firstEffect ?? 'continue' };
    const variants = this.branches
      ? this.branches.map((b) => ({ conditions: [...this.conds, ...b.conditions], action: b.action }))
      : [{ conditions: this.conds, action }];
    return { node: rule, range, text, comment: rule.comment, variants, usesSet: this.usesSet, pure: !this.usesSet && !this.external };
  }

  private statement(stmt: Stmt): void {
    switch (stmt.s) {
      case 'match':
        this.match(stmt);
        return;
      case 'verdict':
        this.action = this.verdictAction(stmt.verdict);
        if (stmt.verdict.kind !== 'continue') this.terminal = stmt;
        else this.firstEffect ??= 'continue';
        return;
      case 'vmap':
        this.vmap(stmt);
        this.terminal = stmt;
        return;
      case 'chain': {
        this.external = true;
        const c = this.env.anonymousChain(this.env.chain, stmt);
        if (c) this.action = { kind: stmt.kind, chain: c.name, range: this.env.rangeOf({ first: stmt.first, last: stmt.first }) };
        this.terminal = stmt;
        return;
      }
      case 'reject':
        this.reject(stmt);
        this.terminal = stmt;
        return;
      case 'other':
        this.other(stmt);
        return;
    }
  }

  // ---- matches --------------------------------------------------------------------------------

  private match(stmt: MatchStmt): void {
    let m = stmt;
    const left = m.left;
    if (m.op === '!') {
      const info = left.t === 'sel' ? selectorInfo(left.key) : undefined;
      let right = m.right;
      while (right.t === 'var' && right.def) right = right.def.value;
      // A comma list of flags is one value (`ct state ! untracked,invalid`); a set is not.
      if (!info || !BITMASK_TYPES.has(info.dtype) || (right.t !== 'val' && right.t !== 'binop' && right.t !== 'list')) {
        this.error('invalid-value', 'negation can only be used with singleton bitmask values (use != to compare)', m);
        return;
      }
      m = { ...m, op: '!=' };
    }
    if (left.t === 'sel') {
      const info = selectorInfo(left.key);
      this.dependency(left);
      if (!info || m.flags || (m.op !== 'implicit' && m.op !== '==' && m.op !== '!=' && !isOrdered(info))) {
        this.checkRhsLoosely(m.right, info ?? this.widthInfo(left, m.right));
        this.conds.push(this.opaque(m));
        return;
      }
      const negate = m.op === '!=';
      const ordered = m.op === '<' || m.op === '>' || m.op === '<=' || m.op === '>=';
      const rhs = this.rhs(m.right, [info], !ordered);
      if (left.modulus && !this.withinModulus(left.modulus, rhs, m.right)) return;
      if (rhs.kind === 'items' && ordered) {
        const v = rhs.elems[0]?.key[0];
        if (rhs.elems.length !== 1 || !v || v.kind !== 'range' || v.lo !== v.hi) {
          this.error('invalid-value', `'${m.op}' needs a single value`, m.right);
          return;
        }
        const max = (1n << BigInt(info.bits)) - 1n;
        const bound = v.lo;
        const r = m.op === '<' ? [0n, bound - 1n] : m.op === '<=' ? [0n, bound] : m.op === '>' ? [bound + 1n, max] : [bound, max];
        if (r[0] > r[1]) {
          this.conds.push({ field: 'family', negate: false, families: [], range: this.env.rangeOf(m.right) });
          return;
        }
        rhs.elems = [{ key: [{ kind: 'range', lo: r[0], hi: r[1], family: v.family }], at: rhs.elems[0].at }];
      }
      this.pushLowered(left, rhs, negate, m);
      this.updateContext(left, m, rhs);
      return;
    }
    if (left.t === 'concat') {
      // A value among the fields (`ip saddr . dport`, a forgotten `tcp`): nft cannot type it.
      const value = left.parts.find(isSymbol);
      if (value) {
        const msg = "Can't parse symbolic invalid expressions";
        if (value.t === 'var') this.error('invalid-value', `${msg}: $${value.name} stands where a concatenation needs a packet field`, whereWritten(value));
        this.error('invalid-value', `${msg}: a concatenation on the left of a match joins packet fields (ip saddr . tcp dport), not values`, value);
        return;
      }
    }
    if (left.t === 'concat' && left.parts.every((p) => p.t === 'sel')) {
      const sels = left.parts as SelectorExpr[];
      const infos = sels.map((s) => selectorInfo(s.key));
      for (const s of sels) this.dependency(s);
      if (infos.some((i) => !i) || (m.op !== 'implicit' && m.op !== '==' && m.op !== '!=')) {
        this.conds.push(this.opaque(m));
        return;
      }
      const rhs = this.rhs(m.right, infos as TypeInfo[], false);
      this.pushConcat(sels, rhs, m.op === '!=', m);
      return;
    }
    if (left.t === 'binop' || left.t === 'map' || left.t === 'concat') {
      // `meta mark & 0xff == 1`, `tcp flags & (syn|ack) == syn`: not modelled.
      this.walkSelectors(left);
      this.conds.push(this.opaque(m));
      return;
    }
    this.error('syntax', `expected a packet field (ip saddr, tcp dport, meta l4proto ...) on the left of the match`, left);
  }

  private walkSelectors(e: Expr): void {
    if (e.t === 'sel') this.dependency(e);
    else if (e.t === 'binop') {
      this.walkSelectors(e.left);
      this.walkSelectors(e.right);
    } else if (e.t === 'concat') e.parts.forEach((p) => this.walkSelectors(p));
    else if (e.t === 'map') this.mapLookup(e);
  }

  /**
   * `KEY map @m` or `KEY map { k : v, ... }` as a value: the key's fields name protocols like a
   * match's, the map must exist and take the key's type, and an anonymous map's keys and data
   * must be valid and its keys disjoint. `data` is the type the result is stored as, if known.
   */
  private mapLookup(e: MapExpr, data?: TypeInfo): void {
    this.walkSelectors(e.key);
    const sels = e.key.t === 'sel' ? [e.key] : e.key.t === 'concat' && e.key.parts.every((p) => p.t === 'sel') ? (e.key.parts as SelectorExpr[]) : [];
    const infos = sels.map((s) => selectorInfo(s.key));
    const keyTypes = sels.length && infos.every((i) => i) ? (infos as TypeInfo[]) : undefined;
    let map = e.map;
    while (map.t === 'var' && map.def) map = map.def.value;
    if (map.t === 'setref') {
      const set = this.lookupSet(map.name, map);
      if (!set.isMap) this.error('invalid-value', `Expression is not a map: '@${set.name}' is a set`, map);
      else if (keyTypes) this.checkSetType(set, keyTypes, map);
      return;
    }
    if (map.t !== 'set' || !keyTypes) return;
    const elems: ResolvedElem[] = [];
    for (const el of map.elems) {
      try {
        if (data && el.value && el.value.t !== 'verdict' && isPlainValue(el.value)) this.values.item(el.value, data);
        // Elements with the same data compare equal: only different data for one key conflicts.
        const value = el.value && el.value.t !== 'verdict' ? [{ kind: 'str' as const, value: this.env.textOf(el.value), wildcard: false }] : undefined;
        if (el.key.t !== 'wild') for (const k of this.values.elements(el.key, keyTypes, false)) elems.push({ ...k, data: value });
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
      }
    }
    checkMapKeys(elems, (msg, at) => this.error('invalid-value', msg, at));
  }

  /** Right side checks for matches we do not model (values must still be valid). */
  private checkRhsLoosely(e: Expr, info: FieldInfo | undefined): void {
    if (!info || e.t === 'setref' || e.t === 'binop') return;
    if (info.dtype === 'tcp_flag' || BITMASK_TYPES.has(info.dtype) || info.dtype === 'integer' || info.dtype === 'mark') {
      try {
        if (e.t !== 'set' || e.elems.every((el) => el.value === undefined)) this.values.elements(e, [info], true);
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
      }
    }
  }

  /** The right side: elements, or a named set (with how far its contents are known). */
  private rhs(e: Expr, types: TypeInfo[], allowList: boolean): RhsValues {
    let ex = e;
    while (ex.t === 'var' && ex.def && ex.def.value.t === 'setref') ex = ex.def.value;
    if (ex.t === 'setref') {
      const set = this.lookupSet(ex.name, ex);
      this.checkSetType(set, types, ex);
      return setValues(set);
    }
    const elems = this.values.elements(e, types, allowList || types.every((t) => BITMASK_TYPES.has(t.dtype)));
    return { kind: 'items', elems, exact: true, range: this.env.rangeBetween(e.first, e.last) };
  }

  lookupSet(name: string, at: Span): SetState {
    const set = this.env.table.sets.get(name);
    if (!set) {
      this.error('undefined-reference', `set '@${name}' does not exist in table ${this.env.table.key}`, at, { missing: 'set', name, table: this.env.table.key });
      throw new ValueError('no set');
    }
    set.bound = true;
    this.usesSet = true;
    return set;
  }

  /** The set's key type must be the selector's (nft: "datatype mismatch"). */
  private checkSetType(set: SetState, types: TypeInfo[], at: Span): void {
    if (!set.keyTypes) return;
    if (set.keyTypes.length !== types.length || set.keyTypes.some((t, i) => !compatible(types[i].dtype, t.dtype))) {
      this.error('invalid-value', `datatype mismatch, expected ${types.map((t) => typeName(t.dtype)).join(' . ')}, expression has type ${set.keyTypes.map((t) => typeName(t.dtype)).join(' . ')}`, at);
      throw new ValueError('type');
    }
  }

  /**
   * A key that only packet fields can type (a meter's, jhash's): a bare value is nft's "No symbol
   * type information" (at its define for a variable), a value among fields "Can't parse symbolic
   * invalid expressions".
   */
  private typedKey(key: Expr): void {
    if (isSymbol(key)) {
      this.error('invalid-value', `No symbol type information: a key here is a packet field (ip saddr, tcp dport ...), not a value`, whereWritten(key));
      throw new ValueError('untyped key');
    }
    const value = key.t === 'concat' ? key.parts.find(isSymbol) : undefined;
    if (value) {
      this.error('invalid-value', `Can't parse symbolic invalid expressions: a key joins packet fields (ip saddr . tcp dport), not values`, whereWritten(value));
      throw new ValueError('untyped key');
    }
  }

  /**
   * The type of a field known by its width only (a TCP option's): an option named without a field
   * compares its kind byte (`tcp option maxseg 1460`: 0-255), or is `exists`/`missing` (a word).
   */
  private widthInfo(sel: SelectorExpr, right: Expr): FieldInfo | undefined {
    if (sel.width === undefined || (right.t === 'val' && right.tok.kind === 'word')) return undefined;
    return { dtype: 'integer', bits: sel.width || 8 };
  }

  /** numgen and the hashes give 0 .. offset + mod - 1: a value past that is an error (nft). */
  private withinModulus(mod: NonNullable<SelectorExpr['modulus']>, rhs: RhsValues, at: Span): boolean {
    if (rhs.kind !== 'items') return true;
    const max = mod.offset + mod.value - 1n;
    for (const e of rhs.elems) {
      const v = e.key[0];
      if (v?.kind === 'range' && v.hi > max) {
        this.error('invalid-value', `Value ${v.hi} exceeds valid range 0-${max}`, at);
        return false;
      }
    }
    return true;
  }

  /**
   * Protocol dependencies of a selector and nft's "conflicting protocols" check: a header field
   * of protocol P conflicts with any other protocol the rule already names at that layer.
   */
  private dependency(sel: SelectorExpr): void {
    if (sel.modulus && (sel.modulus.value === 0n || sel.modulus.value > 0xffffffffn)) {
      // The kernel's refusal: a modulus of 0, or one past 32 bits.
      this.error('invalid-value', `Could not process rule: Numerical result out of range (a modulus runs from 1 to 4294967295)`, { first: sel.modulus.tok, last: sel.modulus.tok });
      throw new ValueError('modulus');
    }
    if (sel.hashed) {
      this.typedKey(sel.hashed);
      this.walkSelectors(sel.hashed);
    }
    if (sel.key === 'meta nfproto' && this.env.table.family !== 'inet') {
      this.error('invalid-value', 'meta nfproto is only useful in the inet family', sel);
      throw new ValueError('nfproto');
    }
    const proto = keyParts(sel.key)[0];
    if ((proto === 'ct' && /^ct (original |reply )?(saddr|daddr)$/.test(sel.key)) || sel.key === 'rt nexthop') {
      // The address family of a conntrack address comes from the table or an earlier match.
      const fam = this.env.table.family;
      if (fam !== 'ip' && fam !== 'ip6' && !this.l3.includes('ip') && !this.l3.includes('ip6')) {
        this.error('invalid-value', `cannot determine ip protocol version, use "${sel.key.replace(/(saddr|daddr|nexthop)$/, 'ip $1')}" or "${sel.key.replace(/(saddr|daddr|nexthop)$/, 'ip6 $1')}" instead`, sel);
        throw new ValueError('ct family');
      }
      return;
    }
    if (proto === 'ip' || proto === 'ip6' || proto === 'arp') {
      this.need('l3', proto, sel);
      return;
    }
    if (L4_PROTO[proto] === undefined) return;
    // In inet (bridge, netdev) tables an ICMP header also ties the rule to its IP version
    // (nft adds that dependency unless a protocol was named already) without checking what
    // came before.
    const fam = this.env.table.family;
    if (fam !== 'ip' && fam !== 'ip6' && fam !== 'arp' && !this.l3.length && !this.l4.length) {
      if (proto === 'icmp' || proto === 'igmp') this.l3 = [(this.l3Last = 'ip')];
      else if (proto === 'icmpv6') this.l3 = [(this.l3Last = 'ip6')];
    }
    this.need('l4', proto, sel);
  }

  private need(layer: 'l3' | 'l4', proto: string, at: Span): void {
    const other = otherProtocol(this[layer], proto);
    if (other) {
      this.error('invalid-value', `conflicting protocols specified: ${other} vs. ${proto}`, at);
      throw new ValueError('conflict');
    }
    if (!this[layer].length) this[layer] = [proto];
    if (layer === 'l3') this.l3Last = proto;
    else this.l4Last = proto;
  }

  /**
   * `ip protocol tcp`, `meta l4proto { tcp, udp }`, `meta nfproto ipv6` add the protocols they
   * name to the context (each element of an anonymous set, in value order), as nft does.
   */
  private updateContext(sel: SelectorExpr, m: MatchStmt, rhs: RhsValues): void {
    if (!CONTEXT_KEYS.has(sel.key) || (m.op !== 'implicit' && m.op !== '==') || rhs.kind !== 'items') return;
    let right = m.right;
    while (right.t === 'var' && right.def) right = right.def.value;
    if (right.t !== 'set' && rhs.elems.length !== 1) return;
    const values: number[] = [];
    for (const e of rhs.elems) {
      const v = e.key[0];
      if (v && v.kind === 'range' && v.lo === v.hi) values.push(Number(v.lo));
    }
    if (right.t === 'set') values.sort((a, b) => a - b);
    const l3: string[] = [];
    for (const n of values) {
      if (sel.key === 'ip protocol' || sel.key === 'ip6 nexthdr' || sel.key === 'meta l4proto') {
        // A protocol nft knows no header of (gre) counts as 'unknown' after meta l4proto, and
        // not at all after ip protocol / ip6 nexthdr.
        const name = L4_NAMES[n] ?? (sel.key === 'meta l4proto' ? 'unknown' : undefined);
        if (name && !this.l4.includes(name)) this.l4.push(name);
        if (values.length === 1) this.l4Last = name ?? 'unknown';
      } else if (sel.key === 'meta nfproto') l3.push(n === 2 ? 'ip' : n === 10 ? 'ip6' : `nfproto ${n}`);
      else if (sel.key === 'meta protocol' || sel.key === 'ether type') l3.push(n === 0x800 ? 'ip' : n === 0x86dd ? 'ip6' : n === 0x806 ? 'arp' : `ethertype ${n}`);
    }
    // The network protocol named by a match replaces what the rule was tied to (nft accepts
    // `icmpv6 type ... meta nfproto ipv4 ip daddr ...`); transport protocols add up.
    if (l3.length) {
      this.l3 = l3;
      this.l3Last = l3[l3.length - 1];
    }
  }

  private pushLowered(sel: SelectorExpr, rhs: RhsValues, negate: boolean, m: MatchStmt): void {
    const range = rhs.range;
    if (rhs.kind === 'opaque') {
      this.pushDeps(this.lowerSel(sel, [], range).deps);
      this.conds.push(this.opaque(m, rhs.why));
      return;
    }
    const items = firstItems(rhs.elems);
    const low = this.lowerSel(sel, items, range, m);
    this.pushDeps(low.deps);
    let main: Condition[] = low.main;
    if (!rhs.exact) main = [{ field: 'any', negate: false, alternatives: [main, [this.opaque(m, rhs.why)]], range }];
    if (!negate) {
      this.conds.push(...main);
      return;
    }
    if (main.length === 1) this.conds.push(negated(main[0]));
    else this.conds.push({ field: 'any', negate: true, alternatives: [main], range });
  }

  private pushConcat(sels: SelectorExpr[], rhs: RhsValues, negate: boolean, m: MatchStmt): void {
    const range = rhs.range;
    const deps: Condition[] = [];
    for (const s of sels) deps.push(...this.lowerSel(s, [], range).deps);
    this.pushDeps(deps);
    if (rhs.kind === 'opaque') {
      this.conds.push(this.opaque(m, rhs.why));
      return;
    }
    const alternatives: Condition[][] = [];
    for (const el of rhs.elems) {
      if (el.wild) continue;
      const conj: Condition[] = [];
      sels.forEach((s, i) => conj.push(...this.lowerSel(s, [el.key[i]], this.env.rangeOf(el.at), m).main));
      alternatives.push(conj);
    }
    if (!rhs.exact) alternatives.push([this.opaque(m, rhs.why)]);
    this.conds.push({ field: 'any', negate, alternatives, range });
  }

  /** Dependencies (protocol, family) are added once per rule: they are the same for every match. */
  private pushDeps(deps: Condition[]): void {
    for (const d of deps) if (!hasDep(this.conds, d)) this.conds.push(d);
  }

  /** lowerSelector for this rule's table; opaque conditions read as the match's text. */
  lowerSel(sel: SelectorExpr, items: ValueItem[], range: Range, what?: Span): Lowered {
    return lowerSelector(sel, items, range, this.env.table.family, what, this.env.textOf);
  }

  private opaque(m: Span, why?: string): Condition {
    const text = this.env.textOf(m);
    return { field: 'opaque', negate: false, what: why ? `${text} (${why})` : text, range: this.env.rangeBetween(m.first, m.last) };
  }

  // ---- verdicts ---------------------------------------------------------------------------------

  private verdictAction(v: VerdictNode): Action {
    const chain = v.kind === 'jump' || v.kind === 'goto' ? this.chainName(v) : undefined;
    return verdictToAction(v.kind, chain, this.env.rangeBetween(v.first, v.last));
  }

  /** The target of jump/goto: must be a chain of the same table. */
  private chainName(v: VerdictNode): string | undefined {
    let t = v.target;
    while (t && t.t === 'var' && t.def) t = t.def.value;
    if (!t || t.t !== 'val') {
      this.error('invalid-value', `expected a chain name after '${v.kind}'`, v.target ?? v);
      return undefined;
    }
    const name = t.tok.kind === 'quoted' ? t.tok.text : t.tok.text;
    this.external = true;
    const target = this.env.table.chains.get(name);
    if (!target) {
      this.error('undefined-reference', `chain '${name}' does not exist in table ${this.env.table.key}`, v.target ?? v, { missing: 'chain', name, table: this.env.table.key, from: this.env.chain.name });
      return undefined;
    }
    if (target.hook) {
      this.error('invalid-value', `Could not process rule: Operation not supported ('${name}' is a base chain: a ${v.kind} can only go to a regular chain)`, v.target ?? v);
      return undefined;
    }
    return name;
  }

  private vmap(stmt: VmapStmt): void {
    const left = stmt.key;
    const sels: SelectorExpr[] = left.t === 'sel' ? [left] : left.t === 'concat' && left.parts.every((p) => p.t === 'sel') ? (left.parts as SelectorExpr[]) : [];
    for (const s of sels) this.dependency(s);
    const infos = sels.map((s) => selectorInfo(s.key));
    let map = stmt.map;
    while (map.t === 'var' && map.def) map = map.def.value;
    const unknownKey = sels.length === 0 || infos.some((i) => !i);
    if (map.t === 'setref') {
      const set = this.lookupSet(map.name, map);
      if (!set.isMap || (set.data !== 'verdict' && set.data !== undefined)) {
        this.error('invalid-value', set.isMap ? `map '@${set.name}' does not map to verdicts (declare it with ': verdict')` : `Expression is not a map: '@${set.name}' is a set`, map);
        return;
      }
      if (!unknownKey) this.checkSetType(set, infos as TypeInfo[], map);
      this.branchesFrom(sels, unknownKey ? undefined : setValues(set), set.elements, stmt);
      return;
    }
    if (map.t !== 'set') {
      this.error('syntax', `expected '{ key : verdict, ... }' or '@map' after vmap`, map);
      return;
    }
    const elems: ResolvedElem[] = [];
    for (const el of map.elems) {
      if (!el.value || el.value.t !== 'verdict') {
        this.error('syntax', `expected 'key : verdict' in the verdict map`, el);
        continue;
      }
      const data = this.verdictValue(el.value);
      if (unknownKey) {
        elems.push({ key: [], data, at: el.key });
        continue;
      }
      try {
        const keys = el.key.t === 'wild' ? [{ key: [], wild: true, at: el.key }] : this.values.elements(el.key.t === 'set' ? el.key : el.key, infos as TypeInfo[], false);
        for (const k of keys) elems.push({ ...k, data });
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
      }
    }
    checkMapKeys(elems, (msg, at) => this.error('invalid-value', msg, at));
    this.branchesFrom(sels, unknownKey ? undefined : { kind: 'items', elems, exact: true, range: this.env.rangeOf(map) }, elems, stmt);
  }

  verdictValue(v: VerdictNode): VerdictValue | undefined {
    if (v.kind === 'jump' || v.kind === 'goto') {
      const name = this.chainName(v);
      return name ? { kind: v.kind, chain: name } : undefined;
    }
    return { kind: v.kind };
  }

  /** One branch per distinct verdict, in the order the verdicts first appear. */
  private branchesFrom(sels: SelectorExpr[], values: RhsValues | undefined, elems: ResolvedElem[], stmt: VmapStmt): void {
    const groups: { verdict: VerdictValue; elems: ResolvedElem[] }[] = [];
    let wild: VerdictValue | undefined;
    for (const el of elems) {
      const v = el.data as VerdictValue | undefined;
      if (!v || !('kind' in v)) continue;
      if (el.wild) {
        wild = v;
        continue;
      }
      const g = groups.find((x) => x.verdict.kind === v.kind && x.verdict.chain === v.chain);
      if (g) g.elems.push(el);
      else groups.push({ verdict: v, elems: [el] });
    }
    const range = this.env.rangeOf(stmt.map);
    const exact = values?.kind === 'items' && values.exact;
    const why = values && values.kind !== 'items' ? values.why : values && !values.exact ? values.why : 'the key is not modelled';
    this.branches = [];
    for (const s of sels) this.pushDeps(this.lowerSel(s, [], range).deps);
    const verdicts = groups.map((g) => g.verdict);
    if (!values || values.kind === 'opaque') {
      // Contents unknown: any verdict of the map may apply to any packet.
      const kinds = verdicts.length ? verdicts : [{ kind: 'accept' as const }, { kind: 'drop' as const }];
      for (const v of kinds) this.branches.push({ conditions: [this.opaque(stmt, why)], action: this.toAction(v, stmt) });
      if (wild) this.branches.push({ conditions: [this.opaque(stmt, why)], action: this.toAction(wild, stmt) });
      return;
    }
    for (const g of groups) {
      const alternatives: Condition[][] = g.elems.map((el) => sels.flatMap((s, i) => this.lowerSel(s, [el.key[i]], this.env.rangeOf(el.at)).main));
      const cond: Condition = sels.length === 1 && g.elems.length > 0 && alternatives.every((a) => a.length === 1 && a[0].field === alternatives[0][0].field && mergeable(a[0]))
        ? mergeConditions(alternatives.map((a) => a[0]), range)
        : { field: 'any', negate: false, alternatives, range };
      const conds = exact ? [cond] : [{ field: 'any' as const, negate: false, alternatives: [[cond], [this.opaque(stmt, why)]], range }];
      this.branches.push({ conditions: conds, action: this.toAction(g.verdict, stmt) });
    }
    if (wild) this.branches.push({ conditions: exact ? [] : [this.opaque(stmt, why)], action: this.toAction(wild, stmt) });
  }

  private toAction(v: VerdictValue, stmt: VmapStmt): Action {
    return verdictToAction(v.kind, v.chain, this.env.rangeOf(stmt));
  }

  // ---- other statements ---------------------------------------------------------------------------

  private reject(stmt: RejectStmt): void {
    const fam = this.env.table.family;
    const w = stmt.with;
    if (w?.family === 'tcp') {
      if (this.l4Last !== undefined && this.l4Last !== 'tcp') {
        this.error('invalid-value', 'you cannot use tcp reset with this protocol', stmt);
        return;
      }
      // nft adds the dependency `meta l4proto tcp` itself.
      this.conds.push({ field: 'proto', negate: false, protos: [6] });
    } else if (w?.family === 'icmp' || w?.family === 'icmpv6') {
      const need = w.family === 'icmp' ? 'ip' : 'ip6';
      if (this.l3Last && this.l3Last !== need) {
        this.error('invalid-value', `conflicting protocols specified: ${this.l3Last} vs ${need}`, stmt);
        return;
      }
      if (fam !== 'ip' && fam !== 'ip6') this.conds.push({ field: 'family', negate: false, families: [need === 'ip' ? 4 : 6] });
      if (w.value) this.checkIcmpCode(w.value, w.family === 'icmp' ? 'icmp_code' : 'icmpv6_code');
    } else if (w?.family === 'icmpx') {
      if (fam === 'ip' || fam === 'ip6' || fam === 'arp') {
        this.error('invalid-value', `abstracted ICMP unreachable not supported in the ${fam} family: use 'reject with ${fam === 'ip6' ? 'icmpv6' : 'icmp'} type ...'`, stmt);
        return;
      }
      if (w.value) this.checkIcmpCode(w.value, 'icmpx_code');
    }
    this.action = { kind: 'verdict', verdict: 'reject', range: this.env.rangeOf(stmt) };
  }

  /** nat addresses and ports: the family they need and values nft accepts. */
  private natArgs(stmt: OtherStmt, nat: NonNullable<OtherStmt['nat']>): void {
    const fam = this.env.table.family;
    // Header fields in the arguments (`dnat tcp dport map { ... }`) name protocols too.
    if (nat.addr) this.walkSelectors(nat.addr);
    if (nat.port) this.walkSelectors(nat.port);
    if (nat.addr) {
      let af = nat.family?.text;
      if (!af) {
        if (fam === 'ip' || fam === 'ip6') af = fam;
        else {
          this.error('invalid-value', 'ip or ip6 must be specified with address for inet tables.', stmt);
          return;
        }
      } else if ((fam === 'ip' || fam === 'ip6') && af !== fam) {
        this.error('invalid-value', `conflicting protocols specified: ${fam} vs. ${af}. You must specify ip or ip6 family in nat statement`, stmt);
        return;
      }
      if (isPlainValue(nat.addr)) this.checkValue(nat.addr, { dtype: af === 'ip' ? 'ipv4_addr' : 'ipv6_addr', bits: af === 'ip' ? 32 : 128 });
    }
    if (nat.port) {
      if (!this.l4.some((p) => PORTED.includes(L4_PROTO[p] ?? -1))) {
        this.error('invalid-value', 'transport protocol mapping is only valid after transport protocol match', stmt);
        return;
      }
      if (isPlainValue(nat.port)) this.checkValue(nat.port, { dtype: 'inet_service', bits: 16 });
    }
  }

  private checkValue(e: Expr, type: TypeInfo): void {
    try {
      this.values.item(e, type);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
    }
  }

  private checkIcmpCode(e: Expr, dtype: string): void {
    try {
      this.values.item(e, { dtype, bits: 8 });
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
    }
  }

  /** A meter makes a set of its name in the table: one that exists already is an error (nft: EEXIST, EBUSY). */
  private meter(name: Token): void {
    const t = this.env.table;
    this.external = true;
    if (t.sets.has(name.text)) {
      this.error('invalid-value', `Could not process rule: File exists (table ${t.key} has a set named ${name.text} already)`, { first: name, last: name });
      return;
    }
    const made = t.meters.get(name.text);
    // The same statement again is the second lowering of its rule, once the sets are complete.
    if (made && made !== name) this.error('invalid-value', `Could not process rule: Device or resource busy (another meter ${name.text} is in table ${t.key} already)`, { first: name, last: name });
    else t.meters.set(name.text, name);
  }

  private other(stmt: OtherStmt): void {
    if (stmt.what === 'set-field' && stmt.exprs?.[0].t === 'sel') {
      // `meta secmark set "x"`, `ct helper set "ftp"`: a named object of the table.
      const kinds: Record<string, string> = { 'meta secmark': 'secmark', 'ct helper': 'ct helper', 'ct timeout': 'ct timeout', 'ct expectation': 'ct expectation' };
      const kind = kinds[stmt.exprs[0].key];
      if (kind && stmt.exprs[1].t === 'val') stmt = { ...stmt, objRef: { kind, name: stmt.exprs[1] } };
      else {
        this.walkSelectors(stmt.exprs[0]);
        // The value's fields count too (`meta mark set ip saddr map @m`, `... jhash ip saddr mod 2`).
        const value = stmt.exprs[1];
        const field = stmt.exprs[0];
        if (field.width === 0) {
          // Only a field of an option can be set: nft reads the option itself as its kind byte,
          // and the kernel refuses to set that.
          if (value.t === 'val' && value.tok.kind === 'num' && BigInt(value.tok.text) > 255n) this.error('invalid-value', `Value ${value.tok.text} exceeds valid range 0-255`, value);
          else this.error('invalid-value', `Could not process rule: Operation not supported (set a field of the option, such as tcp option maxseg size set ...)`, field);
          return;
        }
        const info = selectorInfo(field.key) ?? (field.width ? { dtype: 'integer', bits: field.width } : undefined);
        if (value.t === 'map') this.mapLookup(value, info);
        else this.walkSelectors(value);
        // A number must fit the field (`ip ttl set 256`: "exceeds valid range 0-255"); only the
        // plain numeric types, whose values we read as nft does.
        if (info && SET_CHECKED.has(info.dtype) && value.t === 'val') this.checkValue(value, info);
      }
    }
    // A meter's key names protocols as a match does, and needs a field to give it a type.
    if (stmt.what === 'meter' && stmt.exprs?.length) {
      this.typedKey(stmt.exprs[0]);
      this.walkSelectors(stmt.exprs[0]);
    }
    if (stmt.what === 'dup' && stmt.exprs?.length) {
      const fam = this.env.table.family;
      if (fam !== 'ip' && fam !== 'ip6' && fam !== 'netdev') this.error('invalid-value', `unsupported family: 'dup to' needs an ip or ip6 table`, stmt);
      else if (fam !== 'netdev' && isPlainValue(stmt.exprs[0])) this.checkValue(stmt.exprs[0], { dtype: fam === 'ip' ? 'ipv4_addr' : 'ipv6_addr', bits: fam === 'ip' ? 32 : 128 });
    }
    if (stmt.meter) this.meter(stmt.meter);
    if (stmt.objRef) {
      let n = stmt.objRef.name;
      while (n.t === 'var' && n.def) n = n.def.value;
      if (n.t === 'val') {
        this.external = true;
        const kind = this.env.table.objs.get(n.tok.text);
        if (kind !== stmt.objRef.kind) this.error('undefined-reference', `${stmt.objRef.kind} '${n.tok.text}' does not exist in table ${this.env.table.key}`, stmt.objRef.name);
      }
    }
    for (const ref of stmt.fills ?? []) {
      try {
        const set = this.lookupSet(ref.name, ref);
        set.dynamic = true;
        // A constant key is read as the set's key type, as in a match (`set update saddr @s`:
        // a forgotten `ip` leaves `saddr`, a host name to nft).
        const key = stmt.what === 'dynset' ? stmt.exprs?.[0] : undefined;
        const parts = key?.t === 'concat' ? key.parts : key ? [key] : [];
        if (set.keyTypes?.length === parts.length) parts.forEach((p, i) => isPlainValue(p) && this.checkValue(p, set.keyTypes![i]));
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
      }
    }
    if (stmt.matches) this.conds.push(this.opaque(stmt));
    if (stmt.nat) this.natArgs(stmt, stmt.nat);
    if (TERMINAL_OTHER.has(stmt.what)) {
      this.terminal = stmt;
      // nat statements end the chain with an accept; queue/fwd hand the packet on: we cannot
      // say what becomes of it, so evaluation continues as if the rule did not decide.
      this.action = stmt.what === 'queue' || stmt.what === 'fwd'
        ? { kind: 'continue', target: stmt.what, range: this.env.rangeOf(stmt) }
        : { kind: 'verdict', verdict: 'accept', range: this.env.rangeOf(stmt) };
      return;
    }
    this.firstEffect ??= stmt.what;
  }
}

// ---- helpers -----------------------------------------------------------------------------------

export type RhsValues =
  | { kind: 'items'; elems: ResolvedElem[]; exact: boolean; range: Range; why?: string }
  | { kind: 'opaque'; why: string; range: Range };

/** What a named set's contents mean for the analysis (see the module comment of lower.ts). */
export function setValues(set: SetState): RhsValues {
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  if (set.dynamic || set.expiring) return { kind: 'opaque', why: `@${set.name} changes while packets flow`, range };
  if (set.flags.has('constant')) return { kind: 'items', elems: set.elements, exact: true, range };
  if (set.elements.length === 0) return { kind: 'opaque', why: `@${set.name} is empty here and filled at run time`, range };
  // A static set with elements is read as written, like the rules around it: `nft add element`
  // later is a change to the ruleset, as `nft add rule` would be. (Sets that rules or timeouts
  // change while packets flow, and empty ones filled by scripts, stay opaque above.)
  return { kind: 'items', elems: set.elements, exact: true, range };
}

function isOrdered(info: FieldInfo): boolean {
  return !['ifname', 'string', 'ct_state', 'ct_status', 'tcp_flag', 'ct_label', 'ct_event'].includes(info.dtype);
}

function compatible(want: string, have: string): boolean {
  // 'invalid' is nft's type of `ct saddr` without a family: it takes the set's.
  return want === have || want === 'invalid' || have === 'invalid';
}

/** A literal, a range, a prefix or a variable (not a map lookup or a field). */
/** A value or a variable: what nft cannot type where a packet field should give the type. */
function isSymbol(e: Expr): boolean {
  return e.t === 'val' || e.t === 'var';
}

/** Where nft reports an untyped value: a variable's at its define. */
function whereWritten(e: Expr): Span {
  return e.t === 'var' && e.def ? e.def.value : e;
}

function isPlainValue(e: Expr): boolean {
  return e.t === 'val' || e.t === 'range' || e.t === 'prefix' || e.t === 'var';
}

/** A verdict of a rule or of a verdict-map element as a model action (jump/goto need their chain). */
function verdictToAction(kind: VerdictNode['kind'] | VerdictValue['kind'], chain: string | undefined, range: Range): Action {
  switch (kind) {
    case 'accept':
    case 'drop':
      return { kind: 'verdict', verdict: kind, range };
    case 'return':
      return { kind: 'return', range };
    case 'continue':
      return { kind: 'continue', target: 'continue', range };
    default:
      return { kind, chain: chain ?? '?', range };
  }
}

function negated(c: Condition): Condition {
  return { ...c, negate: !c.negate } as Condition;
}

/** The first item of each element but the catch-all; a single element's own key when it is one item. */
function firstItems(elems: ResolvedElem[]): ValueItem[] {
  if (elems.length === 1 && !elems[0].wild && elems[0].key.length === 1) return elems[0].key;
  const items: ValueItem[] = [];
  for (const e of elems) if (!e.wild) items.push(e.key[0]);
  return items;
}

/** The first protocol of a layer other than `proto`. */
function otherProtocol(layer: string[], proto: string): string | undefined {
  for (const p of layer) if (p !== proto) return p;
  return undefined;
}

function hasDep(conds: Condition[], d: Condition): boolean {
  for (const c of conds) if (sameDep(c, d)) return true;
  return false;
}

function sameDep(a: Condition, b: Condition): boolean {
  if (a.field !== b.field || a.negate !== b.negate || a.range || b.range) return false;
  if (a.field === 'proto' && b.field === 'proto') return a.protos.join() === b.protos.join();
  if (a.field === 'family' && b.field === 'family') return a.families.join() === b.families.join();
  return false;
}

/**
 * Keys of a verdict map must be disjoint: equal keys with different verdicts are refused by
 * the kernel ("File exists", at the later element), overlapping intervals by nft ("conflicting
 * intervals specified", at the one that starts inside the other). Sorting keeps this
 * O(n log n): maps of many thousand elements are common.
 */
export function checkMapKeys(elems: ResolvedElem[], error: (msg: string, at: Span) => void): void {
  // Equal keys, any number of parts.
  const seen = new Map<string, ResolvedElem>();
  for (const e of elems) {
    if (e.wild) continue;
    const k = e.key.map(itemKey).join(' . ');
    const prev = seen.get(k);
    if (prev) {
      if (JSON.stringify(prev.data ?? null) !== JSON.stringify(e.data ?? null)) {
        error('Could not process rule: File exists (the same key twice with different values)', e.at);
        return;
      }
    } else seen.set(k, e);
  }
  // Overlapping intervals of single keys.
  const at = intervalConflict(elems, 0);
  if (at) error('conflicting intervals specified', at);
}

function itemKey(i: ValueItem): string {
  return i.kind === 'str' ? `s:${i.value}${i.wildcard ? '*' : ''}` : `${i.family ?? 0}:${i.lo}-${i.hi}`;
}

/**
 * Overlapping intervals among single-key elements, at least one of them from `fresh` on (the
 * ones being added): nft reports the element that starts inside another, the lowest such.
 * Equal intervals are no conflict (a set keeps one).
 */
export function intervalConflict(all: ResolvedElem[], fresh: number): Span | undefined {
  const items: { lo: bigint; hi: bigint; fam: number; isNew: boolean; at: Span }[] = [];
  all.forEach((e, idx) => {
    const k = e.key;
    if (!e.wild && k.length === 1 && k[0].kind === 'range') items.push({ lo: k[0].lo, hi: k[0].hi, fam: k[0].family ?? 0, isNew: idx >= fresh, at: e.at });
  });
  // By family and start; on equal starts the old element first (the new one is reported).
  items.sort((a, b) => a.fam - b.fam || (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : a.isNew === b.isNew ? 0 : a.isNew ? 1 : -1));
  let fam = -1;
  let maxAll: (typeof items)[0] | undefined;
  let maxNew: (typeof items)[0] | undefined;
  for (const it of items) {
    if (it.fam !== fam) {
      fam = it.fam;
      maxAll = maxNew = undefined;
    }
    const other = it.isNew ? maxAll : maxNew;
    if (other && it.lo <= other.hi && !(other.lo === it.lo && other.hi === it.hi)) return it.at;
    if (!maxAll || it.hi > maxAll.hi) maxAll = it;
    if (it.isNew && (!maxNew || it.hi > maxNew.hi)) maxNew = it;
  }
  return undefined;
}
