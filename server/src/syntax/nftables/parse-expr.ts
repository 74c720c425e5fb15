// Expressions of the rule language: selectors (`ip saddr`, `meta l4proto`, `ct original ip
// saddr`), values, prefixes, ranges, concatenations, `{ }` sets with nft's line-break rule,
// variables and set references — the left and right sides of nft's relational_expr and its
// stmt_expr. Statements are built on this in parse-rule.ts.
import type { ConcatExpr, Expr, SelectorExpr, SetElem, SetExpr, SetRefExpr, ValueExpr, VarExpr, VerdictNode } from './ast';
import { Cursor, describe, ParseError } from './cursor';
import { isStringKind, Token } from './lexer';
import { CT_DIR_KEYS, CT_KEYS, GLOBAL_KEYWORDS, META_KEYS, PAYLOAD_FIELDS, WORD_OPERATORS } from './keywords';
import { dict } from '../../model/dict';

/** Keywords that are values on the right of a match (nft's keyword_expr and protocol names). */
const RHS_KEYWORDS = new Set([
  'ether', 'ip', 'ip6', 'vlan', 'arp', 'dnat', 'snat', 'ecn', 'tcp', 'udp', 'udplite', 'esp', 'ah', 'icmp', 'igmp', 'icmpv6',
  'comp', 'dccp', 'sctp', 'redirect', 'exists', 'missing',
]);

export const PAYLOAD_PROTOS = new Set(Object.keys(PAYLOAD_FIELDS));
export const EXTHDR_PROTOS = new Set(['hbh', 'rt', 'rt0', 'rt2', 'srh', 'frag', 'dst', 'mh']);
export const VERDICTS = new Set(['accept', 'drop', 'continue', 'return', 'jump', 'goto']);
const BINOPS = new Set(['&', '|', '^', '<<', '>>']);

export abstract class ExprParser {
  constructor(protected readonly cur: Cursor) {}

  /** accept, drop, jump <chain> ... (in verdict maps as well as statements). */
  protected abstract verdict(): VerdictNode;

  /** Stateful statements a set element may carry (counter, limit, ct count). */
  protected abstract statefulList(element?: boolean): void;

  /** `@ll,16,8`: a raw payload expression (not a set reference). */
  protected isRawPayloadAt(): boolean {
    const n = this.cur.peekAt(1);
    return n.kind === 'word' && ['ll', 'nh', 'th', 'ih'].includes(n.text) && this.cur.isPunct(',', this.cur.peekAt(2));
  }

  /** Element options: timeout T, expires T, comment "x". True when the element expires. */
  protected elemOptions(): boolean {
    const cur = this.cur;
    let expires = false;
    for (;;) {
      if (cur.accept('timeout') || cur.accept('expires')) {
        this.timeSpec();
        expires = true;
      } else if (cur.isWord('comment')) {
        cur.next();
        this.stringArg('a comment string');
      } else break;
    }
    return expires;
  }

  timeSpec(): Token {
    const t = this.cur.peek();
    if (t.kind === 'time') return this.cur.next();
    throw new ParseError(t, `expected a time such as 10s, 5m or 1h, found ${describe(t)}`);
  }

  // ---- expressions: left side ------------------------------------------------------------

  /** A match's left side: a concatenation of basic expressions, optionally `map`. */
  lhsExpr(): Expr {
    const cur = this.cur;
    const left = this.lhsConcat();
    if (cur.isWord('map')) {
      cur.next();
      const map = this.rhsExpr(false);
      return { t: 'map', key: left, map, first: left.first, last: cur.prev };
    }
    return left;
  }

  lhsConcat(): Expr {
    const cur = this.cur;
    const first = this.lhsBasic();
    if (!cur.isPunct('.')) return first;
    const parts = [first];
    while (cur.accept('.')) parts.push(this.lhsBasic());
    return { t: 'concat', parts, first: first.first, last: cur.prev } as ConcatExpr;
  }

  protected lhsBasic(): Expr {
    const cur = this.cur;
    let left = this.lhsPrimary();
    for (;;) {
      const op = this.binop();
      if (!op) return left;
      const right = this.rhsPrimary();
      left = { t: 'binop', op, left, right, first: left.first, last: cur.prev };
    }
  }

  protected binop(): string | undefined {
    const t = this.cur.peek();
    if (t.kind === 'punct' && BINOPS.has(t.text)) {
      this.cur.next();
      return t.text;
    }
    const word = t.kind === 'word' ? WORD_OPERATORS[t.text] : undefined;
    if (word && BINOPS.has(word)) {
      this.cur.next();
      return word;
    }
    return undefined;
  }

  protected lhsPrimary(): Expr {
    const cur = this.cur;
    const t = cur.peek();
    if (cur.isPunct('(')) {
      cur.next();
      const inner = this.lhsBasic();
      cur.expect(')');
      return inner;
    }
    if (cur.isPunct('$')) return this.variable();
    if (t.kind === 'num') return val(cur.next());
    if (cur.isPunct('@') && this.isRawPayloadAt()) return this.rawPayload();
    if (t.kind === 'word') {
      const sel = this.selector();
      if (sel) return sel;
    }
    if (t.kind === 'quoted' || (isStringKind(t.kind) && !(t.kind === 'word' && GLOBAL_KEYWORDS.has(t.text)))) return val(cur.next());
    throw new ParseError(t, `expected an expression such as 'ip saddr' or 'tcp dport', found ${describe(t)}`);
  }

  protected rawPayload(): SelectorExpr {
    const cur = this.cur;
    const first = cur.next();
    cur.next();
    cur.expect(',');
    this.number('an offset');
    cur.expect(',');
    this.number('a length');
    return { t: 'sel', key: 'raw', first, last: cur.prev };
  }

  /** A selector node from `first` to the last token read, its key internalized. */
  protected selFrom(first: Token, key: string): SelectorExpr {
    return { t: 'sel', key: intern(key), first, last: this.cur.prev };
  }

  /** A selector starting at the current word, or undefined when the word starts none. */
  protected selector(): SelectorExpr | undefined {
    const cur = this.cur;
    const t = cur.peek();
    const w = t.text;
    if (w === 'rt' && ['classid', 'nexthop', 'mtu', 'ipsec', 'ip', 'ip6'].includes(cur.peekAt(1).text)) {
      cur.next();
      if (!cur.accept('ip')) cur.accept('ip6');
      const k = cur.peek();
      if (!['classid', 'nexthop', 'mtu', 'ipsec'].includes(k.text)) throw new ParseError(k, `expected classid, nexthop, mtu or ipsec after 'rt', found ${describe(k)}`);
      cur.next();
      return this.selFrom(t, 'rt ' + k.text);
    }
    if (PAYLOAD_PROTOS.has(w) || EXTHDR_PROTOS.has(w)) return this.payload();
    switch (w) {
      case 'meta': {
        cur.next();
        const k = cur.peek();
        if (k.kind === 'word' && META_KEYS[k.text]) {
          cur.next();
          return this.selFrom(t, 'meta ' + k.text);
        }
        throw new ParseError(k, `unknown meta key ${describe(k)}: known keys are ${Object.keys(META_KEYS).join(', ')}`);
      }
      case 'ct':
        return this.ctSelector();
      case 'fib': {
        cur.next();
        const flags: string[] = [];
        do {
          const f = cur.peek();
          if (!['saddr', 'daddr', 'mark', 'iif', 'oif'].includes(f.text) || f.kind !== 'word') throw new ParseError(f, `expected saddr, daddr, mark, iif or oif after 'fib', found ${describe(f)}`);
          flags.push(cur.next().text);
        } while (cur.accept('.'));
        const r = cur.peek();
        if (!['oif', 'oifname', 'type'].includes(r.text) || r.kind !== 'word') throw new ParseError(r, `expected the fib result (oif, oifname or type), found ${describe(r)}`);
        cur.next();
        if (!flags.includes('saddr') && !flags.includes('daddr')) throw new ParseError(t, 'fib: need either saddr or daddr', cur.prev);
        if (flags.includes('saddr') && flags.includes('daddr')) throw new ParseError(t, 'fib: saddr and daddr are mutually exclusive', cur.prev);
        if (flags.includes('iif') && flags.includes('oif')) throw new ParseError(t, 'fib: iif and oif are mutually exclusive', cur.prev);
        return this.selFrom(t, 'fib ' + r.text);
      }
      case 'socket': {
        cur.next();
        if (cur.accept('cgroupv2')) {
          cur.expect('level', "'level'");
          this.number('a level');
          return this.selFrom(t, 'socket cgroupv2');
        }
        const k = cur.peek();
        if (!['transparent', 'mark', 'wildcard'].includes(k.text)) throw new ParseError(k, `expected transparent, mark, wildcard or cgroupv2 after 'socket', found ${describe(k)}`);
        cur.next();
        return this.selFrom(t, 'socket ' + k.text);
      }
      case 'osf': {
        cur.next();
        if (cur.accept('ttl')) {
          const v = cur.peek();
          if (v.text !== 'loose' && v.text !== 'skip') throw new ParseError(v, 'invalid ttl option: expected loose or skip');
          cur.next();
        }
        if (!cur.accept('version')) cur.expect('name', "'name' or 'version'");
        return this.selFrom(t, 'osf');
      }
      case 'numgen': {
        cur.next();
        if (!cur.accept('inc')) cur.expect('random', "'inc' or 'random'");
        cur.expect('mod', "'mod'");
        const mod = this.number('a modulus');
        const offset = cur.accept('offset') ? this.number('an offset') : undefined;
        const sel = this.selFrom(t, 'numgen');
        sel.modulus = modulus(mod, offset);
        return sel;
      }
      case 'jhash':
      case 'symhash': {
        cur.next();
        const hashed = w === 'jhash' ? this.lhsConcat() : undefined;
        cur.expect('mod', "'mod'");
        const mod = this.number('a modulus');
        if (w === 'jhash' && cur.accept('seed')) this.number('a seed');
        const offset = cur.accept('offset') ? this.number('an offset') : undefined;
        const sel = this.selFrom(t, w);
        if (hashed) sel.hashed = hashed;
        sel.modulus = modulus(mod, offset);
        return sel;
      }
      case 'ipsec': {
        cur.next();
        if (!(cur.isWord('in') || cur.isWord('out'))) return this.selFrom(t, 'meta ipsec');
        cur.next();
        if (cur.accept('spnum')) this.number('a number');
        if (cur.accept('ip') || cur.accept('ip6')) {
          if (!cur.accept('saddr')) cur.expect('daddr', "'saddr' or 'daddr'");
        } else if (!cur.accept('spi')) cur.expect('reqid', "spi, reqid, ip or ip6");
        return this.selFrom(t, 'ipsec');
      }
      case 'exthdr': {
        cur.next();
        const k = cur.peek();
        if (!['hbh', 'rt', 'frag', 'dst', 'mh'].includes(k.text)) throw new ParseError(k, `expected hbh, rt, frag, dst or mh after 'exthdr', found ${describe(k)}`);
        cur.next();
        return this.selFrom(t, 'exthdr ' + k.text);
      }
    }
    if (META_KEYS[w]?.unqualified) {
      cur.next();
      return this.selFrom(t, 'meta ' + w);
    }
    return undefined;
  }

  protected payload(): SelectorExpr {
    const cur = this.cur;
    const t = cur.next();
    const proto = t.text;
    if (proto === 'ip' && cur.isWord('option')) {
      cur.next();
      const k = cur.peek();
      if (!['lsrr', 'rr', 'ssrr', 'ra'].includes(k.text)) throw new ParseError(k, `expected an IP option (lsrr, rr, ssrr, ra), found ${describe(k)}`);
      cur.next();
      const fld = cur.peek();
      if (['type', 'length', 'value', 'ptr', 'addr'].includes(fld.text)) cur.next();
      return this.selFrom(t, 'ip option');
    }
    if (proto === 'tcp' && cur.isWord('option')) {
      cur.next();
      if (cur.accept('@')) {
        cur.next();
        cur.expect(',');
        this.number('an offset');
        cur.expect(',');
        this.number('a length');
        return this.selFrom(t, 'tcp option');
      }
      const kind = cur.peek();
      // nft's scanner reads a field name where the option kind belongs as a syntax error.
      if (kind.kind === 'word' && TCP_OPTION_FIELDS[kind.text] !== undefined) throw new ParseError(kind, `expected a TCP option (maxseg, window, sack-perm, sack, timestamp ...) before '${kind.text}'`);
      cur.next();
      const field = cur.peek();
      const width = field.kind === 'word' ? TCP_OPTION_FIELDS[field.text] : undefined;
      if (width !== undefined) cur.next();
      const sel = this.selFrom(t, 'tcp option');
      sel.width = width ?? 0; // 0: the option itself, no field
      return sel;
    }
    if (proto === 'sctp' && cur.isWord('chunk')) {
      cur.next();
      cur.next();
      const k = cur.peek();
      if (k.kind === 'word' && !GLOBAL_KEYWORDS.has(k.text) && /^[a-z-]+$/.test(k.text) && !['accept', 'drop'].includes(k.text) && !this.startsRhs(k)) cur.next();
      return this.selFrom(t, 'sctp chunk');
    }
    if (proto === 'rt0' || proto === 'srh') {
      const k = cur.peek();
      if ((proto === 'rt0' && k.text === 'addr') || (proto === 'srh' && k.text === 'sid')) {
        cur.next();
        cur.expect('[');
        this.number('an index');
        cur.expect(']');
        return this.selFrom(t, `${proto} ${k.text}`);
      }
    }
    const fields = PAYLOAD_FIELDS[proto] ?? {};
    const f = cur.peek();
    if (f.kind === 'word') {
      if (proto === 'arp' && (f.text === 'saddr' || f.text === 'daddr')) {
        cur.next();
        const k = cur.peek();
        if (k.text !== 'ip' && k.text !== 'ether') throw new ParseError(k, `expected 'ip' or 'ether' after 'arp ${f.text}', found ${describe(k)}`);
        cur.next();
        return this.selFrom(t, `arp ${f.text} ${k.text}`);
      }
      const key = PAYLOAD_KEYS.get(proto)?.get(f.text);
      if (key) {
        cur.next();
        return { t: 'sel', key, first: t, last: f };
      }
    }
    const names = Object.keys(fields);
    throw new ParseError(f, `unknown ${proto} header field ${describe(f)}${names.length ? `: expected one of ${names.join(', ')}` : ''}`);
  }

  protected ctSelector(): SelectorExpr {
    const cur = this.cur;
    const t = cur.next();
    const k = cur.peek();
    if (k.text === 'original' || k.text === 'reply') {
      cur.next();
      const d = cur.peek();
      if (d.text === 'ip' || d.text === 'ip6') {
        cur.next();
        const a = cur.peek();
        if (a.text !== 'saddr' && a.text !== 'daddr') throw new ParseError(a, `expected 'saddr' or 'daddr', found ${describe(a)}`);
        cur.next();
        return this.selFrom(t, `ct ${k.text} ${d.text} ${a.text}`);
      }
      if (d.kind === 'word' && CT_DIR_KEYS[d.text]) {
        cur.next();
        return this.selFrom(t, `ct ${k.text} ${d.text}`);
      }
      throw new ParseError(d, `unknown ct key ${describe(d)} after '${k.text}'`);
    }
    if (k.kind === 'word' && CT_KEYS[k.text]) {
      cur.next();
      return this.selFrom(t, 'ct ' + k.text);
    }
    if (k.kind === 'word' && (k.text === 'timeout' || k.text === 'expectation') && cur.isWord('set', cur.peekAt(1))) {
      cur.next();
      return this.selFrom(t, 'ct ' + k.text);
    }
    throw new ParseError(k, `unknown ct key ${describe(k)}: expected one of ${Object.keys(CT_KEYS).join(', ')}, original, reply`);
  }

  // ---- expressions: right side -----------------------------------------------------------

  startsRhs(t: Token): boolean {
    if (t.kind === 'num' || t.kind === 'quoted' || t.kind === 'star') return true;
    if (isStringKind(t.kind)) return !(t.kind === 'word' && GLOBAL_KEYWORDS.has(t.text)) || RHS_KEYWORDS.has(t.text);
    if (t.kind === 'punct') return t.text === '{' || t.text === '@' || t.text === '$' || t.text === '(';
    return false;
  }

  /** rhs_expr (a set, a set reference, a concatenation) or, when `allowList`, a comma list. */
  rhsExpr(allowList: boolean): Expr {
    const cur = this.cur;
    if (cur.isPunct('{')) return this.setExpr();
    if (cur.isPunct('@')) return this.setRef();
    const first = this.rhsConcat();
    if (allowList && cur.isPunct(',') && isBasic(first)) {
      const items = [first];
      while (cur.accept(',')) items.push(this.rhsBasic());
      return { t: 'list', items, first: first.first, last: cur.prev };
    }
    return first;
  }

  /** basic_rhs (',' basic_rhs)+ — the mask of a flag comparison (nft wants a list here). */
  protected rhsList(): Expr {
    const cur = this.cur;
    const first = this.rhsBasic();
    if (!cur.isPunct(',')) throw new ParseError(cur.peek(), `expected ',' and more flags after '${cur.prev.text}' (write the mask as a list: syn / syn,ack)`);
    const items = [first];
    while (cur.accept(',')) items.push(this.rhsBasic());
    return { t: 'list', items, first: first.first, last: cur.prev };
  }

  rhsConcat(): Expr {
    const cur = this.cur;
    const first = this.rhsMultiton();
    if (!cur.isPunct('.')) return first;
    const parts = [first];
    while (cur.accept('.')) parts.push(this.rhsMultiton());
    return { t: 'concat', parts, first: first.first, last: cur.prev };
  }

  protected rhsMultiton(): Expr {
    const cur = this.cur;
    const base = this.rhsBasic();
    if (cur.isPunct('/') && cur.peekAt(1).kind === 'num') {
      cur.next();
      const len = cur.next();
      return { t: 'prefix', base, len, first: base.first, last: len };
    }
    if (cur.isPunct('-')) {
      cur.next();
      const hi = this.rhsBasic();
      return { t: 'range', lo: base, hi, first: base.first, last: cur.prev };
    }
    return base;
  }

  rhsBasic(): Expr {
    const cur = this.cur;
    let left = this.rhsPrimary();
    for (;;) {
      const op = this.binop();
      if (!op) return left;
      const right = this.rhsPrimary();
      left = { t: 'binop', op, left, right, first: left.first, last: cur.prev };
    }
  }

  protected rhsPrimary(): Expr {
    const cur = this.cur;
    const t = cur.peek();
    if (cur.isPunct('$')) return this.variable();
    if (cur.isPunct('(')) {
      cur.next();
      const inner = this.rhsBasic();
      cur.expect(')');
      return inner;
    }
    if (t.kind === 'num' || t.kind === 'quoted' || t.kind === 'star') return val(cur.next());
    if (isStringKind(t.kind) && (!(t.kind === 'word' && GLOBAL_KEYWORDS.has(t.text)) || RHS_KEYWORDS.has(t.text))) return val(cur.next());
    throw new ParseError(t, `expected a value, found ${describe(t)}`);
  }

  variable(): VarExpr {
    const cur = this.cur;
    const first = cur.expect('$');
    const name = cur.identifier('a variable name');
    const def = cur.lookup(name.text);
    if (!def) throw new UnknownVariable(name);
    cur.varsNamed.push(def);
    return { t: 'var', name: name.text, def, first, last: name };
  }

  setRef(): SetRefExpr {
    const cur = this.cur;
    const first = cur.expect('@');
    const t = cur.peek();
    if (!isStringKind(t.kind)) throw new ParseError(t, `expected a set name after '@', found ${describe(t)}`);
    const nameTok = cur.next();
    return { t: 'setref', name: nameTok.text, nameTok, first, last: nameTok };
  }

  /** An anonymous set `{ a, b, c }` (also with `key : value` elements). */
  setExpr(): SetExpr {
    return this.braceList(false);
  }

  /** vmap { key : verdict, ... } | vmap @name | vmap $var */
  protected vmapBody(): Expr {
    const cur = this.cur;
    if (cur.isPunct('@')) return this.setRef();
    if (cur.isPunct('$')) return this.variable();
    if (!cur.isPunct('{')) throw new ParseError(cur.peek(), `expected '{' or '@map' after 'vmap', found ${describe(cur.peek())}`);
    return this.braceList(true);
  }

  /**
   * `{ ... }` with nft's line-break rule: at most one newline before an element, after it, and
   * after a comma (the grammar's opt_newline), no blank line inside.
   */
  braceList(verdictMap: boolean): SetExpr {
    const cur = this.cur;
    const first = cur.expect('{');
    const elems: SetElem[] = [];
    const oneNewline = (): void => {
      if (cur.peek().kind !== 'nl') return;
      cur.next();
      if (cur.peek().kind === 'nl') throw new ParseError(cur.peek(), `expected an element, ',' or '}': nft allows no blank line inside '{ }'`);
    };
    oneNewline();
    if (cur.isPunct('}')) throw new ParseError(cur.peek(), `expected an element, found '}' (an empty '{ }' is not allowed here)`);
    elems.push(this.element(verdictMap));
    for (;;) {
      oneNewline();
      if (cur.isPunct('}')) break;
      if (!cur.isPunct(',')) throw new ParseError(cur.peek(), `expected ',' or '}' in the set, found ${describe(cur.peek())}`);
      while (cur.accept(',')) oneNewline();
      if (cur.isPunct('}')) break;
      elems.push(this.element(verdictMap));
    }
    const last = cur.expect('}');
    return { t: 'set', elems, first, last };
  }

  protected element(verdictMap: boolean): SetElem {
    const cur = this.cur;
    const start = cur.peek();
    if (!verdictMap && cur.isPunct('{')) {
      const inner = this.setExpr();
      return { key: inner, first: inner.first, last: inner.last };
    }
    let key: Expr;
    if (cur.isPunct('*')) {
      const s = cur.next();
      key = { t: 'wild', first: s, last: s };
    } else {
      if (!this.startsRhs(start) || cur.isPunct('{', start)) throw new ParseError(start, `expected a set element, found ${describe(start)}`);
      key = this.rhsConcat();
    }
    let expires = this.elemOptions();
    this.statefulList(true);
    expires = this.elemOptions() || expires;
    if (cur.accept(':')) {
      const v = cur.peek();
      let value: Expr | VerdictNode;
      if (v.kind === 'word' && VERDICTS.has(v.text)) value = this.verdict();
      else if (verdictMap) throw new ParseError(v, `expected a verdict (accept, drop, jump <chain> ...) after ':', found ${describe(v)}`);
      else value = this.rhsConcat();
      return { key, value, expires, first: start, last: cur.prev };
    }
    if (verdictMap) throw new ParseError(cur.peek(), `expected ':' and a verdict after the key, found ${describe(cur.peek())}`);
    return { key, expires, first: start, last: cur.prev };
  }

  /** nft's stmt_expr: the argument of nat, meta set, counter name, ... */
  stmtExpr(): Expr {
    const cur = this.cur;
    const first = this.stmtConcat();
    if (cur.isWord('map')) {
      cur.next();
      const map = cur.isPunct('@') ? this.setRef() : this.setExpr();
      return { t: 'map', key: first, map, first: first.first, last: cur.prev };
    }
    if (isBasic(first) && cur.isPunct('/') && cur.peekAt(1).kind === 'num') {
      cur.next();
      const len = cur.next();
      return { t: 'prefix', base: first, len, first: first.first, last: len };
    }
    if (isBasic(first) && cur.isPunct('-')) {
      cur.next();
      const hi = this.stmtBasic();
      return { t: 'range', lo: first, hi, first: first.first, last: cur.prev };
    }
    if (isBasic(first) && cur.isPunct(',')) {
      const items = [first];
      while (cur.accept(',')) items.push(this.stmtPrimary());
      return { t: 'list', items, first: first.first, last: cur.prev };
    }
    return first;
  }

  protected stmtConcat(): Expr {
    const cur = this.cur;
    const first = this.stmtBasic();
    if (!cur.isPunct('.')) return first;
    const parts = [first];
    while (cur.accept('.')) parts.push(this.stmtPrimary());
    return { t: 'concat', parts, first: first.first, last: cur.prev };
  }

  protected stmtBasic(): Expr {
    const cur = this.cur;
    let left = this.stmtPrimary();
    for (;;) {
      const op = this.binop();
      if (!op) return left;
      const right = this.stmtPrimary();
      left = { t: 'binop', op, left, right, first: left.first, last: cur.prev };
    }
  }

  protected stmtPrimary(): Expr {
    const cur = this.cur;
    const t = cur.peek();
    if (cur.isPunct('(')) {
      cur.next();
      const inner = this.stmtBasic();
      cur.expect(')');
      return inner;
    }
    if (t.kind === 'word' && !RHS_KEYWORDS.has(t.text)) {
      const sel = this.selector();
      if (sel) return sel;
    }
    if (t.kind === 'word' && RHS_KEYWORDS.has(t.text) && (PAYLOAD_PROTOS.has(t.text))) {
      // `ip saddr` as a value source vs the keyword `ip` as a value.
      const n = cur.peekAt(1);
      if (n.kind === 'word' && (PAYLOAD_FIELDS[t.text]?.[n.text] || n.text === 'option' || (t.text === 'arp' && (n.text === 'saddr' || n.text === 'daddr')))) {
        const sel = this.selector();
        if (sel) return sel;
      }
    }
    return this.rhsPrimary();
  }

  // ---- small pieces -------------------------------------------------------------------------

  number(what: string): Token {
    const t = this.cur.peek();
    if (t.kind === 'num') return this.cur.next();
    throw new ParseError(t, `expected ${what}, found ${describe(t)}`);
  }

  /** nft's `string`: a word, a quoted string or a string with an asterisk. */
  stringArg(what: string): Token {
    const t = this.cur.peek();
    if (t.kind === 'quoted' || t.kind === 'star' || (isStringKind(t.kind) && !(t.kind === 'word' && GLOBAL_KEYWORDS.has(t.text)))) return this.cur.next();
    throw new ParseError(t, `expected ${what}, found ${describe(t)}`);
  }
}

/** An unknown `$name`: reported as an undefined reference rather than a syntax error. */
export class UnknownVariable extends ParseError {
  constructor(readonly nameTok: Token) {
    super(nameTok, `unknown variable '$${nameTok.text}' (define it with 'define ${nameTok.text} = ...' before this line)`);
  }
}

const interned: Map<string, string> = new Map();

/** The fields of a TCP option, by their width in bits. */
const TCP_OPTION_FIELDS = dict<number>({ left: 32, right: 32, count: 8, tsval: 32, tsecr: 32, size: 16, subtype: 4, length: 8 });

/** `mod N [offset M]` of numgen and the hashes. */
function modulus(mod: Token, offset: Token | undefined): SelectorExpr['modulus'] {
  return { value: BigInt(mod.text), offset: offset ? BigInt(offset.text) : 0n, tok: mod };
}

/** 'proto field' keys of the header fields, internalized once: proto → field → key. */
const PAYLOAD_KEYS = new Map<string, Map<string, string>>();
for (const [proto, fields] of Object.entries(PAYLOAD_FIELDS)) {
  PAYLOAD_KEYS.set(proto, new Map(Object.keys(fields ?? {}).map((f) => [f, intern(`${proto} ${f}`)])));
}

/**
 * One string object per selector key, internalized: the lowering switches on keys and looks
 * them up in maps thousands of times, which is a pointer compare for internalized strings.
 */
function intern(key: string): string {
  let k = interned.get(key);
  if (k === undefined) {
    k = Object.keys({ [key]: 0 })[0];
    interned.set(key, k);
  }
  return k;
}

export function val(tok: Token): ValueExpr {
  return { t: 'val', tok, first: tok, last: tok };
}

export function isBasic(e: Expr): boolean {
  return e.t === 'val' || e.t === 'var' || e.t === 'binop' || e.t === 'sel';
}

/** A short text for an expression in messages. */
export function exprText(e: Expr): string {
  return e.t === 'sel' ? `'${e.key}'` : 'the expression';
}
