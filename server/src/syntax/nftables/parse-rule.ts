// Rules: a list of statements (matches, verdicts, counter, log, nat, ...) and the expressions in
// them. Recursive descent over the grammar of nft's parser_bison.y (rule, stmt, relational_expr,
// rhs_expr, set_expr, ...): where that grammar draws a line (what may follow a match, how many
// line breaks a `{ }` set may hold), so do we, so that what nft rejects is rejected here too, on
// the same line.
import type {
  ChainStmt, ConcatExpr, Expr, MatchStmt, OtherStmt, RelOp, RuleNode, SelectorExpr, SetElem, SetExpr, SetRefExpr, Span, Stmt,
  ValueExpr, VarExpr, VerdictNode,
} from './ast';
import { Cursor, describe, ParseError } from './cursor';
import { isStringKind, Token } from './lexer';
import { CT_DIR_KEYS, CT_KEYS, GLOBAL_KEYWORDS, META_KEYS, PAYLOAD_FIELDS, WORD_OPERATORS } from './keywords';

/** Keywords that are values on the right of a match (nft's keyword_expr and protocol names). */
const RHS_KEYWORDS = new Set([
  'ether', 'ip', 'ip6', 'vlan', 'arp', 'dnat', 'snat', 'ecn', 'tcp', 'udp', 'udplite', 'esp', 'ah', 'icmp', 'igmp', 'icmpv6',
  'comp', 'dccp', 'sctp', 'redirect', 'exists', 'missing',
]);

const PAYLOAD_PROTOS = new Set(Object.keys(PAYLOAD_FIELDS));
const EXTHDR_PROTOS = new Set(['hbh', 'rt', 'rt0', 'rt2', 'srh', 'frag', 'dst', 'mh']);
const VERDICTS = new Set(['accept', 'drop', 'continue', 'return', 'jump', 'goto']);
const REL_OPS = new Set(['==', '!=', '<', '>', '<=', '>=', '!']);
const BINOPS = new Set(['&', '|', '^', '<<', '>>']);
const TIME_UNITS = new Set(['second', 'minute', 'hour', 'day', 'week']);
const UNIT_SECONDS: Record<string, bigint> = { second: 1n, minute: 60n, hour: 3600n, day: 86400n, week: 604800n };
const BYTE_UNITS: Record<string, bigint> = { bytes: 1n, kbytes: 1024n, mbytes: 1048576n, gbytes: 1073741824n };
const LOG_LEVELS = new Set(['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'audit']);

export class RuleParser {
  constructor(private readonly cur: Cursor) {}

  // ---- rules ------------------------------------------------------------------------------

  /** A rule up to (not including) its separator. */
  parseRule(): RuleNode {
    const cur = this.cur;
    const first = cur.peek();
    const stmts: Stmt[] = [];
    let comment: string | undefined;
    while (!this.atRuleEnd()) {
      if (cur.isWord('comment')) {
        cur.next();
        comment = this.stringArg('a comment string').text;
        if (!this.atRuleEnd()) throw new ParseError(cur.peek(), `expected the end of the rule after its comment, found ${describe(cur.peek())}`);
        break;
      }
      stmts.push(this.parseStatement());
    }
    if (stmts.length === 0) throw new ParseError(cur.peek(), `expected a statement, found ${describe(cur.peek())}`);
    return { first, last: cur.prev, stmts, comment };
  }

  private atRuleEnd(): boolean {
    const t = this.cur.peek();
    return t.kind === 'nl' || t.kind === 'eof' || (t.kind === 'punct' && (t.text === ';' || t.text === '}'));
  }

  // ---- statements -------------------------------------------------------------------------

  parseStatement(): Stmt {
    const cur = this.cur;
    const t = cur.peek();
    const first = t;
    if (t.kind === 'word') {
      if (VERDICTS.has(t.text)) {
        if ((t.text === 'jump' || t.text === 'goto') && cur.isPunct('{', cur.peekAt(1))) return this.anonChain();
        const v = this.verdict();
        return { s: 'verdict', verdict: v, first, last: cur.prev };
      }
      switch (t.text) {
        case 'counter':
          return this.counterStmt();
        case 'log':
          return this.logStmt();
        case 'limit':
          return this.limitStmt(false);
        case 'quota':
          return this.quotaStmt();
        case 'reject':
          return this.rejectStmt();
        case 'snat':
        case 'dnat':
          return this.natStmt();
        case 'masquerade':
        case 'redirect':
          return this.masqStmt();
        case 'queue':
          return this.queueStmt();
        case 'notrack':
          cur.next();
          return other('notrack', first, cur.prev);
        case 'dup':
          return this.dupStmt();
        case 'fwd':
          return this.fwdStmt();
        case 'tproxy':
          return this.tproxyStmt();
        case 'synproxy':
          return this.synproxyStmt();
        case 'meter':
          return this.meterStmt();
        case 'flow':
          return this.flowStmt();
        case 'add':
        case 'update':
        case 'delete':
          return this.dynsetStmt();
        case 'set':
          return this.legacySetStmt();
        case 'reset':
          return this.optstripStmt();
        case 'ct':
          if (cur.isWord('count', cur.peekAt(1))) return this.ctCountStmt();
          break;
      }
    }
    // A match (`tcp dport 22`), a verdict map (`tcp dport vmap { ... }`) or a field assignment
    // (`meta mark set 1`).
    if (!this.startsExpression(t)) {
      if (t.kind === 'word' && !GLOBAL_KEYWORDS.has(t.text)) {
        // nft reads an unknown word as a value and fails on the token after it; on a continued
        // line that is another line, and the finding goes where nft's error is.
        const n = cur.peekAt(1);
        const at = n.kind !== 'nl' && n.kind !== 'eof' && !this.startsRhs(n) && !cur.isPunct(';', n) && !cur.isPunct('}', n) ? n : t;
        throw new ParseError(at, `unknown statement '${t.text}': expected a match such as 'tcp dport 22', a verdict (accept, drop, jump ...) or a statement (counter, log, limit ...)`, at === t ? undefined : at);
      }
      throw new ParseError(t, `expected a statement, found ${describe(t)}`);
    }
    const left = this.lhsExpr();
    if (cur.isWord('vmap')) {
      cur.next();
      const map = this.vmapBody();
      return { s: 'vmap', key: left, map, first, last: cur.prev };
    }
    if (cur.isWord('set') && left.t === 'sel') {
      cur.next();
      const value = this.stmtExpr();
      return other('set-field', first, cur.prev, { exprs: [left, value] });
    }
    return this.relational(left, first);
  }

  private startsExpression(t: Token): boolean {
    if (t.kind === 'word') {
      if (PAYLOAD_PROTOS.has(t.text) || EXTHDR_PROTOS.has(t.text)) return true;
      if (['meta', 'ct', 'fib', 'socket', 'osf', 'numgen', 'jhash', 'symhash', 'ipsec', 'exthdr'].includes(t.text)) return true;
      if (META_KEYS[t.text]?.unqualified) return true;
      return false;
    }
    if (t.kind === 'punct') return t.text === '(' || t.text === '$' || (t.text === '@' && this.isRawPayloadAt());
    return false;
  }

  private isRawPayloadAt(): boolean {
    const n = this.cur.peekAt(1);
    return n.kind === 'word' && ['ll', 'nh', 'th', 'ih'].includes(n.text) && this.cur.isPunct(',', this.cur.peekAt(2));
  }

  private relational(left: Expr, first: Token): MatchStmt {
    const cur = this.cur;
    let op: RelOp = 'implicit';
    let opTok: Token | undefined;
    const t = cur.peek();
    if (t.kind === 'punct' && REL_OPS.has(t.text)) {
      opTok = cur.next();
      op = t.text as RelOp;
    } else if (t.kind === 'word' && WORD_OPERATORS[t.text] && REL_OPS.has(WORD_OPERATORS[t.text])) {
      opTok = cur.next();
      const o = WORD_OPERATORS[t.text];
      op = o as RelOp;
    }
    if (!this.startsRhs(cur.peek())) {
      const n = cur.peek();
      throw new ParseError(n, `expected a value to match ${exprText(left)} against, found ${describe(n)}`);
    }
    const right = this.rhsExpr(true);
    let flags: Expr | undefined;
    if (cur.isPunct('/') && (right.t === 'val' || right.t === 'list' || right.t === 'binop' || right.t === 'var')) {
      // Flag comparison: tcp flags syn / syn,ack (mask after the slash).
      cur.next();
      flags = this.rhsList();
    }
    return { s: 'match', left, op, right, opTok, flags, first, last: cur.prev };
  }

  private verdict(): VerdictNode {
    const cur = this.cur;
    const t = cur.next();
    const kind = t.text as VerdictNode['kind'];
    if (kind === 'jump' || kind === 'goto') {
      const target = this.chainTarget();
      return { t: 'verdict', kind, target, first: t, last: cur.prev };
    }
    return { t: 'verdict', kind, first: t, last: t };
  }

  private chainTarget(): Expr {
    const cur = this.cur;
    if (cur.isPunct('$')) return this.variable();
    const name = cur.identifier('a chain name');
    return val(name);
  }

  private anonChain(): ChainStmt {
    const cur = this.cur;
    const first = cur.next();
    cur.expect('{');
    const rules: RuleNode[] = [];
    cur.openScope();
    try {
      for (;;) {
        const t = cur.peek();
        if (cur.isPunct('}', t)) break;
        if (t.kind === 'eof') throw new ParseError(t, `expected '}' to close the anonymous chain, found end of file`);
        if (cur.atSeparator()) {
          cur.next();
          continue;
        }
        rules.push(this.parseRule());
        cur.separator('a rule');
      }
    } finally {
      cur.closeScope();
    }
    cur.expect('}');
    return { s: 'chain', kind: first.text as 'jump' | 'goto', rules, first, last: cur.prev };
  }

  private counterStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (cur.isWord('name')) {
      cur.next();
      const name = this.stmtExpr();
      return other('counter', first, cur.prev, { objRef: { kind: 'counter', name } });
    }
    while (cur.isWord('packets') || cur.isWord('bytes')) {
      cur.next();
      this.number('a number');
    }
    return other('counter', first, cur.prev);
  }

  private logStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    for (;;) {
      if (cur.isWord('prefix')) {
        cur.next();
        const s = this.stringArg('a log prefix string');
        this.checkPrefixVariables(s);
      } else if (cur.isWord('group') || cur.isWord('snaplen') || cur.isWord('queue-threshold')) {
        cur.next();
        this.number('a number');
      } else if (cur.isWord('level')) {
        cur.next();
        const l = this.stringArg('a log level');
        if (!LOG_LEVELS.has(l.text)) throw new ParseError(l, `invalid log level '${l.text}': expected one of ${[...LOG_LEVELS].join(', ')}`);
      } else if (cur.isWord('flags')) {
        cur.next();
        if (cur.accept('tcp')) {
          do {
            if (!cur.accept('sequence') && !cur.accept('options')) throw new ParseError(cur.peek(), `expected 'sequence' or 'options' after 'log flags tcp', found ${describe(cur.peek())}`);
          } while (cur.accept(','));
        } else if (cur.accept('ip')) cur.expect('options');
        else if (!cur.accept('skuid') && !cur.accept('ether') && !cur.accept('all')) {
          throw new ParseError(cur.peek(), `expected a log flag (tcp sequence, tcp options, ip options, skuid, ether, all), found ${describe(cur.peek())}`);
        }
      } else break;
    }
    return other('log', first, cur.prev);
  }

  /** `$name` inside a log prefix string refers to a variable (nft expands it). */
  private checkPrefixVariables(s: Token): void {
    const re = /\$([A-Za-z0-9_]*)/g;
    for (let m = re.exec(s.text); m; m = re.exec(s.text)) {
      if (!this.cur.lookup(m[1])) throw new ParseError(s, `unknown identifier '${m[1]}' in the log prefix`);
    }
  }

  /** limit rate [over|until] N/unit [burst N packets] | N bytes/unit ... | limit name X. */
  private limitStmt(inSetElem: boolean): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (!inSetElem && cur.isWord('name')) {
      cur.next();
      const name = this.stmtExpr();
      return other('limit', first, cur.prev, { objRef: { kind: 'limit', name }, matches: true });
    }
    cur.expect('rate', "'rate'");
    this.limitConfig();
    return other('limit', first, cur.prev, { matches: true });
  }

  /** The part after `limit rate` (also in `limit` objects). */
  limitConfig(): void {
    const cur = this.cur;
    const start = cur.peek();
    if (!cur.accept('over')) cur.accept('until');
    const rateTok = this.number('a rate');
    const rate = BigInt(rateTok.text);
    let unit: string;
    if (cur.accept('/')) {
      unit = this.timeUnit();
      let burst = 5n;
      if (cur.accept('burst')) {
        const b = this.number('a burst size');
        burst = BigInt(b.text);
        if (burst === 0n) throw new ParseError(b, 'packet limit burst must be > 0');
        cur.expect('packets', "'packets'");
      }
      this.checkRate(rate, rate + burst > 0xffffffffffffffffn, { first: start, last: cur.prev });
      return;
    }
    // A byte rate: N mbytes/second, N bytes / second.
    const u = cur.peek();
    let bytesPer = 1n;
    if (cur.isWord('bytes')) {
      cur.next();
      cur.expect('/');
      unit = this.timeUnit();
    } else if (u.kind === 'word' && /^[kmg]?bytes(\/(second|minute|hour|day|week))?$/.test(u.text)) {
      cur.next();
      bytesPer = BYTE_UNITS[u.text.split('/')[0]];
      if (!u.text.includes('/')) {
        cur.expect('/');
        unit = this.timeUnit();
      } else unit = u.text.split('/')[1];
    } else throw new ParseError(u, `expected '/' and a time unit (second, minute, hour, day, week) or a byte rate such as 'mbytes/second', found ${describe(u)}`);
    if (cur.accept('burst')) {
      this.number('a burst size');
      const b = cur.peek();
      if (cur.isWord('bytes') || (b.kind === 'word' && /^[kmg]?bytes$/.test(b.text))) cur.next();
      else throw new ParseError(b, `expected a byte unit (bytes, kbytes, mbytes) after the burst size, found ${describe(b)}`);
    }
    // The kernel keeps rate x nanoseconds per unit in 64 bits.
    this.checkRate(rate, rate * bytesPer * UNIT_SECONDS[unit] * 1_000_000_000n > 0xffffffffffffffffn, { first: start, last: cur.prev });
  }

  private checkRate(rate: bigint, overflow: boolean, at: Span): void {
    if (rate === 0n) this.cur.problem('invalid-value', 'Could not process rule: Invalid argument (a limit rate of 0)', at);
    else if (overflow) this.cur.problem('invalid-value', 'Could not process rule: Value too large for defined data type (the rate is too large for the kernel)', at);
  }

  private timeUnit(): string {
    const t = this.cur.peek();
    if (t.kind === 'word' && TIME_UNITS.has(t.text)) {
      this.cur.next();
      return t.text;
    }
    throw new ParseError(t, `expected a time unit (second, minute, hour, day, week), found ${describe(t)}`);
  }

  private quotaStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (cur.isWord('name')) {
      cur.next();
      const name = this.stmtExpr();
      return other('quota', first, cur.prev, { objRef: { kind: 'quota', name }, matches: true });
    }
    this.quotaConfig();
    return other('quota', first, cur.prev, { matches: true });
  }

  quotaConfig(): void {
    const cur = this.cur;
    if (!cur.accept('over')) cur.accept('until');
    this.number('a quota size');
    this.byteUnit();
    if (cur.accept('used')) {
      this.number('a size');
      this.byteUnit();
    }
  }

  private byteUnit(): void {
    const t = this.cur.peek();
    if (t.kind === 'word' && /^[kmg]?bytes$/.test(t.text)) {
      this.cur.next();
      return;
    }
    throw new ParseError(t, `expected a byte unit (bytes, kbytes, mbytes, gbytes), found ${describe(t)}`);
  }

  private ctCountStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    cur.next(); // count
    cur.accept('over');
    this.number('a connection count');
    return other('ct count', first, cur.prev, { matches: true });
  }

  private rejectStmt(): Stmt {
    const cur = this.cur;
    const first = cur.next();
    if (!cur.accept('with')) return { s: 'reject', first, last: first };
    const fam = cur.peek();
    if (cur.accept('tcp')) {
      cur.expect('reset', "'reset'");
      return { s: 'reject', with: { family: 'tcp' }, first, last: cur.prev };
    }
    if (!(cur.isWord('icmp') || cur.isWord('icmpv6') || cur.isWord('icmpx'))) throw new ParseError(fam, `expected icmp, icmpv6, icmpx or tcp after 'reject with', found ${describe(fam)}`);
    cur.next();
    cur.accept('type');
    const v = cur.peek();
    let value: Expr;
    if (v.kind === 'num' || (isStringKind(v.kind) && !(v.kind === 'word' && GLOBAL_KEYWORDS.has(v.text)))) value = val(cur.next());
    else throw new ParseError(v, `expected an ICMP code name after 'reject with ${fam.text}', found ${describe(v)}`);
    return { s: 'reject', with: { family: fam.text as 'icmp' | 'icmpv6' | 'icmpx', value }, first, last: cur.prev };
  }

  private natStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    const nat: NonNullable<OtherStmt['nat']> = {};
    // `snat ip to ...` names the family; `snat ip saddr map { ... }` is an expression.
    if ((cur.isWord('ip') || cur.isWord('ip6')) && ['to', 'addr', 'interval', 'prefix'].includes(cur.peekAt(1).text)) {
      nat.family = cur.next();
      if (cur.accept('addr')) {
        cur.expect('.');
        cur.expect('port', "'port'");
      } else if (!cur.accept('interval')) cur.accept('prefix');
      cur.expect('to', "'to'");
      this.natTarget(nat);
    } else if (cur.accept('interval') || cur.accept('prefix')) {
      cur.expect('to', "'to'");
      this.natTarget(nat);
    } else {
      cur.accept('to');
      this.natTarget(nat);
    }
    this.natFlags();
    return other(first.text, first, cur.prev, { terminal: true, nat });
  }

  /** [addr][:port] */
  private natTarget(nat: NonNullable<OtherStmt['nat']>): void {
    const cur = this.cur;
    if (cur.accept(':')) {
      nat.port = this.stmtExpr();
      return;
    }
    nat.addr = this.stmtExpr();
    if (cur.accept(':')) nat.port = this.stmtExpr();
  }

  private natFlags(): void {
    const cur = this.cur;
    if (!(cur.isWord('random') || cur.isWord('fully-random') || cur.isWord('persistent'))) return;
    do {
      if (!cur.accept('random') && !cur.accept('fully-random') && !cur.accept('persistent')) throw new ParseError(cur.peek(), `expected random, fully-random or persistent, found ${describe(cur.peek())}`);
    } while (cur.accept(','));
  }

  private masqStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    const nat: NonNullable<OtherStmt['nat']> = {};
    if (cur.accept('to')) {
      if (first.text === 'masquerade') cur.expect(':');
      else cur.accept(':');
      nat.port = this.stmtExpr();
    }
    this.natFlags();
    return other(first.text, first, cur.prev, { terminal: true, nat });
  }

  private queueStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    const exprs: Expr[] = [];
    if (cur.accept('to')) exprs.push(this.stmtExpr());
    else if (cur.accept('flags')) {
      this.queueFlags();
      if (cur.accept('to')) exprs.push(this.stmtExpr());
      else {
        cur.expect('num', "'num' or 'to'");
        this.queueNum();
      }
    } else {
      for (;;) {
        if (cur.accept('num')) this.queueNum();
        else if (cur.isWord('bypass') || cur.isWord('fanout')) this.queueFlags();
        else break;
      }
    }
    return other('queue', first, cur.prev, { terminal: true, exprs });
  }

  private queueFlags(): void {
    const cur = this.cur;
    do {
      if (!cur.accept('bypass') && !cur.accept('fanout')) throw new ParseError(cur.peek(), `expected 'bypass' or 'fanout', found ${describe(cur.peek())}`);
    } while (cur.accept(','));
  }

  private queueNum(): void {
    const cur = this.cur;
    if (cur.isPunct('$')) this.variable();
    else this.number('a queue number');
    if (cur.accept('-')) {
      if (cur.isPunct('$')) this.variable();
      else this.number('a queue number');
    }
  }

  private dupStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    cur.expect('to', "'to'");
    const exprs = [this.stmtExpr()];
    if (cur.accept('device')) exprs.push(this.stmtExpr());
    return other('dup', first, cur.prev, { exprs });
  }

  private fwdStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    const exprs: Expr[] = [];
    if (cur.accept('ip') || cur.accept('ip6')) {
      cur.expect('to', "'to'");
      exprs.push(this.stmtExpr());
      cur.expect('device', "'device'");
      exprs.push(this.stmtExpr());
    } else {
      cur.expect('to', "'to'");
      exprs.push(this.stmtExpr());
    }
    return other('fwd', first, cur.prev, { terminal: true, exprs });
  }

  private tproxyStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (!cur.accept('ip')) cur.accept('ip6');
    cur.expect('to', "'to'");
    this.natTarget({});
    return other('tproxy', first, cur.prev);
  }

  private synproxyStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (cur.accept('name')) {
      const name = this.stmtExpr();
      return other('synproxy', first, cur.prev, { objRef: { kind: 'synproxy', name } });
    }
    for (;;) {
      if (cur.accept('mss') || cur.accept('maxseg') || cur.accept('wscale')) this.number('a number');
      else if (!cur.accept('timestamp') && !cur.accept('sack-perm') && !cur.accept('sack-permitted')) break;
    }
    return other('synproxy', first, cur.prev);
  }

  private meterStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    cur.identifier('a meter name');
    if (cur.accept('size')) this.number('a size');
    cur.expect('{');
    this.lhsConcat();
    this.elemOptions();
    this.parseStatement();
    cur.expect('}');
    return other('meter', first, cur.prev, { matches: true });
  }

  private flowStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (cur.accept('add') || cur.accept('offload')) {
      cur.expect('@');
      this.stringArg('a flowtable name');
      return other('flow offload', first, cur.prev);
    }
    // Legacy `flow table NAME { key stmt }` (a meter).
    cur.expect('table', "'add', 'offload' or 'table'");
    cur.identifier('a meter name');
    cur.expect('{');
    this.lhsConcat();
    this.elemOptions();
    this.parseStatement();
    cur.expect('}');
    return other('meter', first, cur.prev, { matches: true });
  }

  /** add|update|delete @set { key [stateful ...] [: data] } */
  private dynsetStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    const ref = this.setRef();
    cur.expect('{');
    const key = this.lhsConcat();
    this.elemOptions();
    this.statefulList();
    let data: Expr | undefined;
    if (cur.accept(':')) {
      data = this.lhsConcat();
      this.elemOptions();
    }
    cur.expect('}');
    return other('dynset', first, cur.prev, { fills: [ref], exprs: data ? [key, data] : [key] });
  }

  /** set add|update|delete <key> @set (the older spelling). */
  private legacySetStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    if (!(cur.isWord('add') || cur.isWord('update') || cur.isWord('delete'))) throw new ParseError(cur.peek(), `expected add, update or delete after 'set', found ${describe(cur.peek())}`);
    cur.next();
    const key = this.lhsConcat();
    this.elemOptions();
    const ref = this.setRef();
    return other('dynset', first, cur.prev, { fills: [ref], exprs: [key] });
  }

  private optstripStmt(): OtherStmt {
    const cur = this.cur;
    const first = cur.next();
    cur.expect('tcp', "'tcp'");
    cur.expect('option', "'option'");
    cur.next();
    return other('reset tcp option', first, cur.prev);
  }

  /** Stateful statements inside a dynset or set element: counter, limit, quota, ct count. */
  private statefulList(): void {
    const cur = this.cur;
    for (;;) {
      if (cur.isWord('counter')) {
        cur.next();
        while (cur.accept('packets') || cur.accept('bytes')) this.number('a number');
      } else if (cur.isWord('limit')) this.limitStmt(true);
      else if (cur.isWord('quota')) {
        cur.next();
        this.quotaConfig();
      } else if (cur.isWord('ct') && cur.isWord('count', cur.peekAt(1))) this.ctCountStmt();
      else break;
    }
  }

  /** Element options: timeout T, expires T, comment "x". True when the element expires. */
  private elemOptions(): boolean {
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

  private lhsBasic(): Expr {
    const cur = this.cur;
    let left = this.lhsPrimary();
    for (;;) {
      const op = this.binop();
      if (!op) return left;
      const right = this.rhsPrimary();
      left = { t: 'binop', op, left, right, first: left.first, last: cur.prev };
    }
  }

  private binop(): string | undefined {
    const t = this.cur.peek();
    if (t.kind === 'punct' && BINOPS.has(t.text)) {
      this.cur.next();
      return t.text;
    }
    if (t.kind === 'word' && WORD_OPERATORS[t.text] && BINOPS.has(WORD_OPERATORS[t.text])) {
      this.cur.next();
      return WORD_OPERATORS[t.text];
    }
    return undefined;
  }

  private lhsPrimary(): Expr {
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

  private rawPayload(): SelectorExpr {
    const cur = this.cur;
    const first = cur.next();
    cur.next();
    cur.expect(',');
    this.number('an offset');
    cur.expect(',');
    this.number('a length');
    return { t: 'sel', key: 'raw', first, last: cur.prev };
  }

  /** A selector starting at the current word, or undefined when the word starts none. */
  private selector(): SelectorExpr | undefined {
    const cur = this.cur;
    const t = cur.peek();
    const w = t.text;
    const sel = (key: string): SelectorExpr => ({ t: 'sel', key: intern(key), first: t, last: cur.prev });
    if (w === 'rt' && ['classid', 'nexthop', 'mtu', 'ipsec', 'ip', 'ip6'].includes(cur.peekAt(1).text)) {
      cur.next();
      if (!cur.accept('ip')) cur.accept('ip6');
      const k = cur.peek();
      if (!['classid', 'nexthop', 'mtu', 'ipsec'].includes(k.text)) throw new ParseError(k, `expected classid, nexthop, mtu or ipsec after 'rt', found ${describe(k)}`);
      cur.next();
      return sel('rt ' + k.text);
    }
    if (PAYLOAD_PROTOS.has(w) || EXTHDR_PROTOS.has(w)) return this.payload();
    switch (w) {
      case 'meta': {
        cur.next();
        const k = cur.peek();
        if (k.kind === 'word' && META_KEYS[k.text]) {
          cur.next();
          return sel('meta ' + k.text);
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
        return sel('fib ' + r.text);
      }
      case 'socket': {
        cur.next();
        if (cur.accept('cgroupv2')) {
          cur.expect('level', "'level'");
          this.number('a level');
          return sel('socket cgroupv2');
        }
        const k = cur.peek();
        if (!['transparent', 'mark', 'wildcard'].includes(k.text)) throw new ParseError(k, `expected transparent, mark, wildcard or cgroupv2 after 'socket', found ${describe(k)}`);
        cur.next();
        return sel('socket ' + k.text);
      }
      case 'osf': {
        cur.next();
        if (cur.accept('ttl')) {
          const v = cur.peek();
          if (v.text !== 'loose' && v.text !== 'skip') throw new ParseError(v, 'invalid ttl option: expected loose or skip');
          cur.next();
        }
        if (!cur.accept('version')) cur.expect('name', "'name' or 'version'");
        return sel('osf');
      }
      case 'numgen': {
        cur.next();
        if (!cur.accept('inc')) cur.expect('random', "'inc' or 'random'");
        cur.expect('mod', "'mod'");
        this.number('a modulus');
        if (cur.accept('offset')) this.number('an offset');
        return sel('numgen');
      }
      case 'jhash':
      case 'symhash': {
        cur.next();
        if (w === 'jhash') this.lhsConcat();
        cur.expect('mod', "'mod'");
        this.number('a modulus');
        if (w === 'jhash' && cur.accept('seed')) this.number('a seed');
        if (cur.accept('offset')) this.number('an offset');
        return sel(w);
      }
      case 'ipsec': {
        cur.next();
        if (!(cur.isWord('in') || cur.isWord('out'))) return sel('meta ipsec');
        cur.next();
        if (cur.accept('spnum')) this.number('a number');
        if (cur.accept('ip') || cur.accept('ip6')) {
          if (!cur.accept('saddr')) cur.expect('daddr', "'saddr' or 'daddr'");
        } else if (!cur.accept('spi')) cur.expect('reqid', "spi, reqid, ip or ip6");
        return sel('ipsec');
      }
      case 'exthdr': {
        cur.next();
        const k = cur.peek();
        if (!['hbh', 'rt', 'frag', 'dst', 'mh'].includes(k.text)) throw new ParseError(k, `expected hbh, rt, frag, dst or mh after 'exthdr', found ${describe(k)}`);
        cur.next();
        return sel('exthdr ' + k.text);
      }
    }
    if (META_KEYS[w]?.unqualified) {
      cur.next();
      return sel('meta ' + w);
    }
    return undefined;
  }

  private payload(): SelectorExpr {
    const cur = this.cur;
    const t = cur.next();
    const proto = t.text;
    const sel = (key: string): SelectorExpr => ({ t: 'sel', key: intern(key), first: t, last: cur.prev });
    if (proto === 'ip' && cur.isWord('option')) {
      cur.next();
      const k = cur.peek();
      if (!['lsrr', 'rr', 'ssrr', 'ra'].includes(k.text)) throw new ParseError(k, `expected an IP option (lsrr, rr, ssrr, ra), found ${describe(k)}`);
      cur.next();
      const fld = cur.peek();
      if (['type', 'length', 'value', 'ptr', 'addr'].includes(fld.text)) cur.next();
      return sel('ip option');
    }
    if (proto === 'tcp' && cur.isWord('option')) {
      cur.next();
      if (cur.accept('@')) {
        cur.next();
        cur.expect(',');
        this.number('an offset');
        cur.expect(',');
        this.number('a length');
        return sel('tcp option');
      }
      cur.next(); // the option kind
      const fields = ['left', 'right', 'count', 'tsval', 'tsecr', 'size', 'subtype', 'length'];
      if (cur.peek().kind === 'word' && fields.includes(cur.peek().text)) cur.next();
      return sel('tcp option');
    }
    if (proto === 'sctp' && cur.isWord('chunk')) {
      cur.next();
      cur.next();
      const k = cur.peek();
      if (k.kind === 'word' && !GLOBAL_KEYWORDS.has(k.text) && /^[a-z-]+$/.test(k.text) && !['accept', 'drop'].includes(k.text) && !this.startsRhs(k)) cur.next();
      return sel('sctp chunk');
    }
    if (proto === 'rt0' || proto === 'srh') {
      const k = cur.peek();
      if ((proto === 'rt0' && k.text === 'addr') || (proto === 'srh' && k.text === 'sid')) {
        cur.next();
        cur.expect('[');
        this.number('an index');
        cur.expect(']');
        return sel(`${proto} ${k.text}`);
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
        return sel(`arp ${f.text} ${k.text}`);
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

  private ctSelector(): SelectorExpr {
    const cur = this.cur;
    const t = cur.next();
    const sel = (key: string): SelectorExpr => ({ t: 'sel', key: intern(key), first: t, last: cur.prev });
    const k = cur.peek();
    if (k.text === 'original' || k.text === 'reply') {
      cur.next();
      const d = cur.peek();
      if (d.text === 'ip' || d.text === 'ip6') {
        cur.next();
        const a = cur.peek();
        if (a.text !== 'saddr' && a.text !== 'daddr') throw new ParseError(a, `expected 'saddr' or 'daddr', found ${describe(a)}`);
        cur.next();
        return sel(`ct ${k.text} ${d.text} ${a.text}`);
      }
      if (d.kind === 'word' && CT_DIR_KEYS[d.text]) {
        cur.next();
        return sel(`ct ${k.text} ${d.text}`);
      }
      throw new ParseError(d, `unknown ct key ${describe(d)} after '${k.text}'`);
    }
    if (k.kind === 'word' && CT_KEYS[k.text]) {
      cur.next();
      return sel('ct ' + k.text);
    }
    if (k.kind === 'word' && (k.text === 'timeout' || k.text === 'expectation') && cur.isWord('set', cur.peekAt(1))) {
      cur.next();
      return sel('ct ' + k.text);
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
  private rhsList(): Expr {
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

  private rhsMultiton(): Expr {
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

  private rhsPrimary(): Expr {
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
  private vmapBody(): Expr {
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

  private element(verdictMap: boolean): SetElem {
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
    this.statefulList();
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

  private stmtConcat(): Expr {
    const cur = this.cur;
    const first = this.stmtBasic();
    if (!cur.isPunct('.')) return first;
    const parts = [first];
    while (cur.accept('.')) parts.push(this.stmtPrimary());
    return { t: 'concat', parts, first: first.first, last: cur.prev };
  }

  private stmtBasic(): Expr {
    const cur = this.cur;
    let left = this.stmtPrimary();
    for (;;) {
      const op = this.binop();
      if (!op) return left;
      const right = this.stmtPrimary();
      left = { t: 'binop', op, left, right, first: left.first, last: cur.prev };
    }
  }

  private stmtPrimary(): Expr {
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

/** 'proto field' keys of the header fields, internalized once: proto → field → key. */
const PAYLOAD_KEYS = new Map<string, Map<string, string>>();
for (const [proto, fields] of Object.entries(PAYLOAD_FIELDS)) {
  PAYLOAD_KEYS.set(proto, new Map(Object.keys(fields).map((f) => [f, intern(`${proto} ${f}`)])));
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

function val(tok: Token): ValueExpr {
  return { t: 'val', tok, first: tok, last: tok };
}

function other(what: string, first: Token, last: Token, extra: Partial<OtherStmt> = {}): OtherStmt {
  return { s: 'other', what, first, last, ...extra };
}

function isBasic(e: Expr): boolean {
  return e.t === 'val' || e.t === 'var' || e.t === 'binop' || e.t === 'sel';
}

/** A short text for an expression in messages. */
function exprText(e: Expr): string {
  return e.t === 'sel' ? `'${e.key}'` : 'the expression';
}
