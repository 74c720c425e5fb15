// Rules: a list of statements (matches, verdicts, counter, log, nat, ...). Recursive descent
// over the grammar of nft's parser_bison.y (rule, stmt, relational_expr): where that grammar
// draws a line (what may follow a match, which statements end a rule), so do we, so that what
// nft rejects is rejected here too, on the same line. Expressions are parsed by parse-expr.ts.
import type { ChainStmt, Define, Expr, MatchStmt, OtherStmt, RelOp, RuleNode, Span, Stmt, VerdictNode } from './ast';
import { describe, ParseError } from './cursor';
import { isStringKind, Token } from './lexer';
import { GLOBAL_KEYWORDS, META_KEYS, WORD_OPERATORS } from './keywords';
import { EXTHDR_PROTOS, exprText, ExprParser, PAYLOAD_PROTOS, val, VERDICTS } from './parse-expr';
import { dict } from '../../model/dict';

const REL_OPS = new Set(['==', '!=', '<', '>', '<=', '>=', '!']);
const TIME_UNITS = new Set(['second', 'minute', 'hour', 'day', 'week']);
const UNIT_SECONDS: Record<string, bigint | undefined> = dict({ second: 1n, minute: 60n, hour: 3600n, day: 86400n, week: 604800n });
const BYTE_UNITS: Record<string, bigint | undefined> = dict({ bytes: 1n, kbytes: 1024n, mbytes: 1048576n, gbytes: 1073741824n });
const NO_DEFINES: readonly Define[] = [];
const LOG_LEVELS = new Set(['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'audit']);

export class RuleParser extends ExprParser {
  // ---- rules ------------------------------------------------------------------------------

  /** A rule up to (not including) its separator. */
  parseRule(): RuleNode {
    const cur = this.cur;
    const first = cur.peek();
    const vars = cur.varsNamed.length;
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
    return { first, last: cur.prev, stmts, comment, vars: cur.varsNamed.length === vars ? NO_DEFINES : cur.varsNamed.slice(vars), wholeLine: false };
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
    const match = this.relational(left, first);
    if (left.t === 'var') {
      // A well-formed match on a variable: nft gives the value no type there, and says so where
      // the variable is defined.
      if (left.def) cur.problem('syntax', `No symbol type information: $${left.name} is used where a match needs a packet field (ip saddr, tcp dport ...)`, left.def.value);
      throw new ParseError(left.first, `a match starts with a packet field (ip saddr, tcp dport ...), not with a variable: $${left.name}`, left.last);
    }
    return match;
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

  private relational(left: Expr, first: Token): MatchStmt {
    const cur = this.cur;
    let op: RelOp = 'implicit';
    let opTok: Token | undefined;
    const t = cur.peek();
    if (t.kind === 'punct' && REL_OPS.has(t.text)) {
      opTok = cur.next();
      op = t.text as RelOp;
    } else {
      const word = t.kind === 'word' ? WORD_OPERATORS[t.text] : undefined;
      if (word && REL_OPS.has(word)) {
        opTok = cur.next();
        op = word as RelOp;
      }
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

  protected verdict(): VerdictNode {
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

  /** Anonymous chains being parsed (nft allows no chain inside an anonymous chain). */
  private anonDepth = 0;

  private anonChain(): ChainStmt {
    const cur = this.cur;
    const first = cur.next();
    const brace = cur.expect('{');
    if (this.anonDepth > 0) cur.problem('syntax', 'too many levels of nesting: an anonymous chain cannot contain another', brace);
    this.anonDepth++;
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
      this.anonDepth--;
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
      bytesPer = BYTE_UNITS[u.text.split('/')[0]] ?? 1n; // the pattern above admits only its keys
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
    this.checkRate(rate, rate * bytesPer * (UNIT_SECONDS[unit] ?? 1n) * 1_000_000_000n > 0xffffffffffffffffn, { first: start, last: cur.prev });
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
    if (this.quotaConfig()) this.overusedQuota({ first, last: cur.prev });
    return other('quota', first, cur.prev, { matches: true });
  }

  /** The kernel's refusal of a quota that has used more than its size. */
  overusedQuota(at: Span | Token): void {
    this.cur.problem('invalid-value', 'Could not process rule: Invalid argument (more is used than the quota)', at);
  }

  /** A quota's size and what is used of it; true when more is used than the size (overusedQuota). */
  quotaConfig(): boolean {
    const cur = this.cur;
    if (!cur.accept('over')) cur.accept('until');
    const size = BigInt(this.number('a quota size').text) * this.byteUnit();
    if (cur.accept('used')) {
      const used = BigInt(this.number('a size').text) * this.byteUnit();
      return used > size;
    }
    return false;
  }

  /** A byte unit and its multiplier. */
  private byteUnit(): bigint {
    const t = this.cur.peek();
    if (t.kind === 'word' && /^[kmg]?bytes$/.test(t.text)) {
      this.cur.next();
      return 1n << BigInt(10 * ' kmg'.indexOf(t.text.length > 5 ? t.text[0] : ' '));
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
    const name = cur.identifier('a meter name');
    if (cur.accept('size')) this.number('a size');
    return this.meterBody(first, name);
  }

  /** `{ key [options] statement }` of a meter, after its name: a match the analysis cannot see. */
  private meterBody(first: Token, name: Token): OtherStmt {
    const cur = this.cur;
    cur.expect('{');
    const key = this.lhsConcat();
    this.elemOptions();
    this.parseStatement();
    cur.expect('}');
    return other('meter', first, cur.prev, { matches: true, meter: name, exprs: [key] });
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
    return this.meterBody(first, cur.identifier('a meter name'));
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

  /**
   * Stateful statements of a dynset (counter, limit, quota, ct count) or, with `element`, of a
   * set element (nft allows no quota there).
   */
  protected statefulList(element = false): void {
    const cur = this.cur;
    for (;;) {
      if (cur.isWord('counter')) {
        cur.next();
        while (cur.accept('packets') || cur.accept('bytes')) this.number('a number');
      } else if (cur.isWord('limit')) this.limitStmt(true);
      else if (!element && cur.isWord('quota')) {
        cur.next();
        this.quotaConfig();
      } else if (cur.isWord('ct') && cur.isWord('count', cur.peekAt(1))) this.ctCountStmt();
      else break;
    }
  }
}

function other(what: string, first: Token, last: Token, extra: Partial<OtherStmt> = {}): OtherStmt {
  return { s: 'other', what, first, last, ...extra };
}
