// The nftables ruleset parser: commands (`table ... { }`, `add rule ...`, `flush ruleset`),
// table/chain/set blocks, `include`, `define`. Rules are parsed by parse-rule.ts. Errors are
// reported once each ("expected ...") and parsing resumes at the next statement of the same
// block, so one bad rule does not hide the rest of the file.
import type {
  ChainDecl, Command, Define, Expr, Family, HookSpec, ObjDecl, NftFile, RuleNode, SetDecl, Span, TableItem, TableRef, VarExpr,
} from './ast';
import { tableKey } from './ast';
import { definesKey, findKept, LowerCache } from './lower-cache';
import { Cursor, describe, ParseError, Problem, Source } from './cursor';
import { isStringKind, Token } from './lexer';
import { FAMILIES, GLOBAL_KEYWORDS } from './keywords';
import { UnknownVariable } from './parse-expr';
import { RuleParser } from './parse-rule';

export interface ParseOptions {
  /** Path of the file, for resolving `include`. */
  path?: string;
  /** Reads an included file; undefined when it does not exist. */
  readFile?: (path: string) => string | undefined;
}

export interface ParseResult {
  file: NftFile;
  problems: Problem[];
  sources: Source[];
  /** Maps spans to ranges in the main file (included files map to their include directive). */
  cursor: Cursor;
}

/** `cache`: the rules kept from the document's previous version, whose text the parser may skip. */
export function parseNftables(text: string, opts: ParseOptions = {}, cache?: LowerCache): ParseResult {
  const cur = new Cursor(text, opts.path, opts.readFile);
  const p = new Parser(cur, cache);
  const file = p.parseFile();
  cur.lexProblems();
  return { file, problems: cur.problems, sources: cur.sources, cursor: cur };
}

/** A variable as the scanner reads its name (nft: a string after `$`). */
const VARIABLE = /\$([A-Za-z_.][A-Za-z0-9_/.\-]*)/g;

const OBJ_KINDS = new Set(['counter', 'quota', 'limit', 'secmark', 'synproxy']);
/** Words that start a table's next block: in an object's block, its '}' is missing. */
const BLOCK_WORDS: ReadonlySet<string> = new Set(['chain', 'set', 'map', 'table', 'flowtable', 'ct', ...OBJ_KINDS]);
const SET_FLAGS = new Set(['constant', 'interval', 'timeout', 'dynamic']);
const NOOP_COMMANDS = new Set(['list', 'reset', 'monitor', 'export', 'import', 'describe']);

class Parser {
  private readonly rp: RuleParser;
  private readonly commands: Command[] = [];

  constructor(private readonly cur: Cursor, private readonly cache?: LowerCache) {
    this.rp = new RuleParser(cur);
  }

  parseFile(): NftFile {
    const cur = this.cur;
    while (!cur.atEnd()) {
      if (cur.atSeparator()) {
        cur.next();
        continue;
      }
      this.guard(() => {
        if (this.commonBlock()) return;
        const cmd = this.command();
        if (cmd) this.commands.push(cmd);
        // base_cmd stmt_separator | base_cmd EOF
        const t = cur.peek();
        if (t.kind !== 'eof') cur.separator(commandName(cmd));
      }, true);
    }
    return { commands: this.commands };
  }

  /** Runs one statement; on a parse error reports it and skips to the next statement. */
  private guard(body: () => void, topLevel = false): void {
    const cur = this.cur;
    const depth = cur.depth;
    try {
      body();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      if (e instanceof UnknownVariable) cur.problem('undefined-reference', e.message, e.nameTok);
      else cur.error(e);
      const before = cur.peek();
      cur.recover(depth);
      // At top level a stray '}' would stop recovery forever: step over it.
      if (topLevel && cur.peek() === before && cur.isPunct('}')) cur.next();
    }
  }

  // ---- include / define ---------------------------------------------------------------------

  /** include, define, redefine, undefine (allowed at top level and in blocks). */
  private commonBlock(): boolean {
    const cur = this.cur;
    const t = cur.peek();
    if (t.kind !== 'word') return false;
    switch (t.text) {
      case 'include': {
        cur.next();
        const path = cur.peek();
        if (path.kind !== 'quoted') throw new ParseError(path, `expected a quoted file name after 'include', found ${describe(path)}`);
        cur.next();
        const span = { first: t, last: path };
        cur.separator('the include');
        cur.include(path, span);
        return true;
      }
      case 'define':
      case 'redefine': {
        cur.next();
        const nameTok = cur.identifier('a variable name');
        cur.expect('=');
        const named = cur.varsNamed.length;
        const value = this.initializer();
        cur.separator('the definition');
        const d: Define = { name: nameTok.text, nameTok, value, uses: cur.varsNamed.slice(named) };
        if (t.text === 'redefine') cur.redefine(d);
        else if (!cur.define(d)) cur.problem('syntax', `redefinition of symbol '${nameTok.text}' (use 'redefine' to change it)`, nameTok);
        return true;
      }
      case 'undefine': {
        cur.next();
        const nameTok = cur.identifier('a variable name');
        cur.separator('undefine');
        if (!cur.undefine(nameTok.text)) cur.problem('undefined-reference', `undefined symbol '${nameTok.text}'`, nameTok);
        return true;
      }
    }
    return false;
  }

  /** define X = <rhs_expr | list | {} | -N>. */
  private initializer(): Expr {
    const cur = this.cur;
    const t = cur.peek();
    if (cur.isPunct('{') && cur.isPunct('}', cur.peekAt(1))) {
      const first = cur.next();
      const last = cur.next();
      return { t: 'set', elems: [], first, last };
    }
    if (cur.isPunct('-') && cur.peekAt(1).kind === 'num') {
      cur.next();
      const n = cur.next();
      return { t: 'val', tok: { ...n, text: '-' + n.text, pos: t.pos }, first: t, last: n };
    }
    if (!this.rp.startsRhs(t)) throw new ParseError(t, `expected a value after '=', found ${describe(t)}`);
    return this.rp.rhsExpr(true);
  }

  // ---- commands -----------------------------------------------------------------------------

  private command(): Command | undefined {
    const cur = this.cur;
    const t = cur.peek();
    if (t.kind !== 'word') throw new ParseError(t, `expected a command (table, chain, add, flush, include, define ...), found ${describe(t)}`);
    switch (t.text) {
      case 'add':
        cur.next();
        return this.addCommand('add', t);
      case 'create':
        cur.next();
        return this.addCommand('create', t);
      case 'insert':
      case 'replace':
        cur.next();
        cur.expect('rule', "'rule'");
        return this.ruleCommand(t.text, t);
      case 'delete':
        cur.next();
        return this.deleteCommand(t);
      case 'flush':
        cur.next();
        return this.flushCommand(t);
      case 'get': {
        cur.next();
        cur.expect('element', "'element'");
        const ref = this.tableSpec();
        const setTok = cur.identifier('a set name');
        const elems = this.setBlockExpr();
        return { c: 'element', op: 'get', ref, setTok, elems, span: { first: t, last: cur.prev } };
      }
      case 'rename': {
        cur.next();
        cur.expect('chain', "'chain'");
        const ref = this.tableSpec();
        const chainTok = cur.identifier('a chain name');
        const newTok = cur.identifier('the new chain name');
        return { c: 'rename', ref, chainTok, newTok, span: { first: t, last: cur.prev } };
      }
    }
    if (NOOP_COMMANDS.has(t.text)) {
      cur.next();
      while (!cur.atSeparator() && !cur.atEnd()) cur.next();
      return { c: 'noop', what: t.text, span: { first: t, last: cur.prev } };
    }
    return this.addCommand('add', t);
  }

  /** What follows `add` (or stands alone): table, chain, rule, set, map, element, objects, or a bare rule. */
  private addCommand(op: 'add' | 'create', start: Token): Command {
    const cur = this.cur;
    const t = cur.peek();
    const w = t.kind === 'word' ? t.text : '';
    switch (w) {
      case 'table': {
        cur.next();
        let ref = this.tableSpec();
        const n = cur.peek();
        if (!ref.familyTok && isStringKind(n.kind) && !(n.kind === 'word' && GLOBAL_KEYWORDS.has(n.text))) {
          // `table foo t {`: two names, so the first was meant as the family.
          cur.problem('invalid-value', `unknown family '${ref.nameTok.text}': expected ip, ip6, inet, arp, bridge or netdev`, ref.nameTok);
          ref = { family: 'ip', familyTok: ref.nameTok, nameTok: cur.next() };
        }
        let items: TableItem[] | undefined;
        if (cur.isPunct('{')) items = this.tableBlock(tableKey(ref));
        return { c: 'table', op, ref, items, span: { first: start, last: cur.prev } };
      }
      case 'chain': {
        cur.next();
        const ref = this.tableSpec();
        const chain = this.chainDecl(false, tableKey(ref));
        return { c: 'chain', op, ref, chain, span: { first: start, last: cur.prev } };
      }
      case 'rule':
        if (op === 'create') throw new ParseError(t, `'create rule' does not exist: use 'add rule' or 'insert rule'`);
        cur.next();
        return this.ruleCommand('add', start);
      case 'set':
      case 'map': {
        cur.next();
        const ref = this.tableSpec();
        const set = this.setDecl(w);
        return { c: 'set', op, ref, set, span: { first: start, last: cur.prev } };
      }
      case 'element': {
        cur.next();
        const ref = this.tableSpec();
        const setTok = cur.identifier('a set name');
        const elems = this.setBlockExpr();
        return { c: 'element', op, ref, setTok, elems, span: { first: start, last: cur.prev } };
      }
      case 'flowtable': {
        cur.next();
        const ref = this.tableSpec();
        const nameTok = cur.identifier('a flowtable name');
        this.flowtableBlock();
        return { c: 'flowtable', op, ref, nameTok, span: { first: start, last: cur.prev } };
      }
      case 'ct': {
        cur.next();
        const k = cur.peek();
        if (!['helper', 'timeout', 'expectation'].includes(k.text)) throw new ParseError(k, `expected helper, timeout or expectation after 'ct', found ${describe(k)}`);
        cur.next();
        const ref = this.tableSpec();
        const nameTok = cur.identifier(`a ct ${k.text} name`);
        this.objBlock(`ct ${k.text}`, nameTok);
        return { c: 'obj', op, ref, obj: { kind: `ct ${k.text}`, nameTok, first: start, last: cur.prev }, span: { first: start, last: cur.prev } };
      }
    }
    if (OBJ_KINDS.has(w)) {
      cur.next();
      const ref = this.tableSpec();
      const nameTok = cur.identifier(`a ${w} name`);
      if (cur.isPunct('{')) this.objBlock(w, nameTok);
      else this.objConfig(w, nameTok);
      return { c: 'obj', op, ref, obj: { kind: w, nameTok, first: start, last: cur.prev }, span: { first: start, last: cur.prev } };
    }
    if (op === 'create') throw new ParseError(t, `expected table, chain, set, map, element, flowtable or an object after 'create', found ${describe(t)}`);
    // `add <family> <table> <chain> <rule>` and the bare form at top level.
    if (t.kind === 'word' && (FAMILIES.has(w) || !GLOBAL_KEYWORDS.has(w))) return this.ruleCommand('add', start);
    if (isStringKind(t.kind) && t.kind !== 'word') return this.ruleCommand('add', start);
    if (t.kind === 'word') throw new ParseError(t, `unexpected '${w}': expected a command (table, chain, rule, set, map, element, add, flush, include, define ...)`);
    throw new ParseError(t, `expected a command, found ${describe(t)}`);
  }

  private ruleCommand(op: 'add' | 'insert' | 'replace' | string, start: Token): Command {
    const cur = this.cur;
    const ref = this.tableSpec();
    const chainTok = cur.identifier('a chain name');
    let position: { kind: 'handle' | 'position' | 'index'; tok: Token } | undefined;
    for (const k of ['position', 'handle', 'index'] as const) {
      if (cur.isWord(k)) {
        cur.next();
        position = { kind: k, tok: this.rp.number(`a rule ${k}`) };
        break;
      }
    }
    if (op === 'replace' && position?.kind !== 'handle') throw new ParseError(cur.peek(), `expected 'handle <number>' after the chain name of 'replace rule'`);
    const rule = this.rp.parseRule();
    return { c: 'rule', op: op as 'add' | 'insert' | 'replace', ref, chainTok, rule, position, span: { first: start, last: cur.prev } };
  }

  private deleteCommand(start: Token): Command {
    const cur = this.cur;
    const t = cur.peek();
    const w = t.text;
    if (w === 'table') {
      cur.next();
      const f = cur.peek();
      let family: Family = 'ip';
      let familyTok: Token | undefined;
      if (f.kind === 'word' && FAMILIES.has(f.text)) {
        familyTok = cur.next();
        family = f.text as Family;
      }
      if (cur.isWord('handle')) {
        const h = cur.next();
        const handleTok = this.rp.number('a handle');
        return { c: 'delete', what: 'table', ref: { family, familyTok, nameTok: h }, handleTok, span: { first: start, last: cur.prev } };
      }
      const nameTok = cur.identifier('a table name');
      return { c: 'delete', what: 'table', ref: { family, familyTok, nameTok }, span: { first: start, last: cur.prev } };
    }
    if (w === 'chain' || w === 'set' || w === 'map' || w === 'rule' || w === 'flowtable') {
      cur.next();
      const ref = this.tableSpec();
      if (w !== 'rule' && cur.isWord('handle')) {
        cur.next();
        const handleTok = this.rp.number('a handle');
        if (w === 'flowtable') return { c: 'flowtable', op: 'delete', ref, nameTok: handleTok, span: { first: start, last: cur.prev } };
        return { c: 'delete', what: w, ref, handleTok, span: { first: start, last: cur.prev } };
      }
      const nameTok = cur.identifier(`a ${w} name`);
      if (w === 'rule') {
        cur.expect('handle', "'handle <number>'");
        const handleTok = this.rp.number('a handle');
        return { c: 'delete', what: 'rule', ref, nameTok, handleTok, span: { first: start, last: cur.prev } };
      }
      if (w === 'flowtable') {
        if (cur.isPunct('{')) this.flowtableBlock();
        return { c: 'flowtable', op: 'delete', ref, nameTok, span: { first: start, last: cur.prev } };
      }
      return { c: 'delete', what: w, ref, nameTok, span: { first: start, last: cur.prev } };
    }
    if (w === 'element') {
      cur.next();
      const ref = this.tableSpec();
      const setTok = cur.identifier('a set name');
      const elems = this.setBlockExpr();
      return { c: 'element', op: 'delete', ref, setTok, elems, span: { first: start, last: cur.prev } };
    }
    if (OBJ_KINDS.has(w) || w === 'ct') {
      cur.next();
      let kind = w;
      if (w === 'ct') {
        const k = cur.next();
        if (!['helper', 'timeout', 'expectation'].includes(k.text)) throw new ParseError(k, `expected helper, timeout or expectation after 'delete ct'`);
        kind = `ct ${k.text}`;
      }
      const ref = this.tableSpec();
      if (cur.accept('handle')) {
        const h = this.rp.number('a handle');
        return { c: 'obj', op: 'delete', ref, obj: { kind, nameTok: h, first: start, last: cur.prev }, span: { first: start, last: cur.prev } };
      }
      const nameTok = cur.identifier(`a ${kind} name`);
      return { c: 'obj', op: 'delete', ref, obj: { kind, nameTok, first: start, last: cur.prev }, span: { first: start, last: cur.prev } };
    }
    throw new ParseError(t, `expected table, chain, rule, set, map, element or an object after 'delete', found ${describe(t)}`);
  }

  private flushCommand(start: Token): Command {
    const cur = this.cur;
    const t = cur.peek();
    if (cur.accept('ruleset')) {
      const f = cur.peek();
      let family: Family | undefined;
      if (f.kind === 'word' && FAMILIES.has(f.text)) family = cur.next().text as Family;
      return { c: 'flush', what: 'ruleset', family, span: { first: start, last: cur.prev } };
    }
    if (cur.accept('table')) return { c: 'flush', what: 'table', ref: this.tableSpec(), span: { first: start, last: cur.prev } };
    for (const w of ['chain', 'set', 'map', 'meter'] as const) {
      if (cur.accept(w)) {
        const ref = this.tableSpec();
        const nameTok = cur.identifier(`a ${w} name`);
        return { c: 'flush', what: w, ref, nameTok, span: { first: start, last: cur.prev } };
      }
    }
    if (cur.accept('flow')) {
      cur.expect('table', "'table'");
      const ref = this.tableSpec();
      const nameTok = cur.identifier('a meter name');
      return { c: 'flush', what: 'meter', ref, nameTok, span: { first: start, last: cur.prev } };
    }
    throw new ParseError(t, `expected ruleset, table, chain, set or map after 'flush', found ${describe(t)}`);
  }

  /** [family] name */
  private tableSpec(): TableRef {
    const cur = this.cur;
    const t = cur.peek();
    let family: Family = 'ip';
    let familyTok: Token | undefined;
    if (t.kind === 'word' && FAMILIES.has(t.text)) {
      familyTok = cur.next();
      family = t.text as Family;
    }
    const nameTok = cur.identifier('a table name');
    return { familyTok, family, nameTok };
  }

  // ---- table block ----------------------------------------------------------------------------

  private tableBlock(table: string): TableItem[] {
    const cur = this.cur;
    cur.expect('{');
    const items: TableItem[] = [];
    cur.openScope();
    try {
      for (;;) {
        const t = cur.peek();
        if (cur.isPunct('}')) break;
        if (t.kind === 'eof') throw new ParseError(t, `expected '}' to close the table, found end of file`);
        if (cur.atSeparator()) {
          cur.next();
          continue;
        }
        this.guard(() => {
          if (this.commonBlock()) return;
          const item = this.tableItem(table);
          items.push(item);
        });
      }
    } finally {
      cur.closeScope();
    }
    cur.expect('}');
    return items;
  }

  private tableItem(table: string): TableItem {
    const cur = this.cur;
    const t = cur.peek();
    const w = t.kind === 'word' ? t.text : '';
    switch (w) {
      case 'chain': {
        cur.next();
        const chain = this.chainDecl(true, table);
        if (!chain.unclosed) cur.separator(`the chain's '}'`);
        return { i: 'chain', chain };
      }
      case 'set':
      case 'map': {
        cur.next();
        const set = this.setDecl(w);
        if (!set.unclosed) cur.separator(`the ${w}'s '}'`);
        return { i: 'set', set };
      }
      case 'flowtable': {
        cur.next();
        const nameTok = cur.identifier('a flowtable name');
        this.flowtableBlock();
        cur.separator(`the flowtable's '}'`);
        return { i: 'flowtable', ft: { nameTok, first: t, last: cur.prev } };
      }
      case 'ct': {
        cur.next();
        const k = cur.peek();
        if (!['helper', 'timeout', 'expectation'].includes(k.text)) throw new ParseError(k, `expected helper, timeout or expectation after 'ct', found ${describe(k)}`);
        cur.next();
        const nameTok = cur.identifier(`a ct ${k.text} name`);
        if (this.objBlock(`ct ${k.text}`, nameTok)) cur.separator(`the object's '}'`);
        return { i: 'obj', obj: { kind: `ct ${k.text}`, nameTok, first: t, last: cur.prev } };
      }
      case 'flags': {
        cur.next();
        const f = cur.peek();
        if (!isStringKind(f.kind)) throw new ParseError(f, `expected a table flag (dormant, owner), found ${describe(f)}`);
        cur.next();
        if (f.text !== 'dormant' && f.text !== 'owner') throw new ParseError(f, `unknown table option ${f.text} (expected dormant or owner)`);
        cur.separator('the table flags');
        return { i: 'flags', span: { first: t, last: f } };
      }
      case 'comment': {
        cur.next();
        const s = this.rp.stringArg('a comment string');
        cur.separator('the comment');
        return { i: 'comment', span: { first: t, last: s } };
      }
    }
    if (OBJ_KINDS.has(w)) {
      cur.next();
      const nameTok = cur.identifier(`a ${w} name`);
      if (this.objBlock(w, nameTok)) cur.separator(`the ${w}'s '}'`);
      const obj: ObjDecl = { kind: w, nameTok, first: t, last: cur.prev };
      return { i: 'obj', obj };
    }
    if (w && !GLOBAL_KEYWORDS.has(w)) throw new ParseError(t, `unexpected '${w}' in a table: expected chain, set, map, flowtable, counter, quota, limit or '}'`);
    throw new ParseError(t, `expected chain, set, map, flowtable or '}' in the table, found ${describe(t)}`);
  }

  // ---- chains -------------------------------------------------------------------------------

  /**
   * `<name> [{ ... }]` (in a table block the block is required); `table` is the model's name of
   * the table the chain is in (`family name`).
   */
  private chainDecl(blockRequired: boolean, table: string): ChainDecl {
    const cur = this.cur;
    const nameTok = cur.identifier('a chain name');
    const chain: ChainDecl = { nameTok, rules: [], hasBlock: false, first: nameTok, last: nameTok };
    if (!cur.isPunct('{')) {
      if (blockRequired) throw new ParseError(cur.peek(), `expected '{' after the chain name, found ${describe(cur.peek())}`);
      return chain;
    }
    chain.hasBlock = true;
    cur.next();
    cur.openScope();
    try {
      for (;;) {
        const t = cur.peek();
        if (cur.isPunct('}')) break;
        if (t.kind === 'eof') throw new ParseError(t, `expected '}' to close chain '${nameTok.text}', found end of file`);
        if (cur.atSeparator()) {
          cur.next();
          continue;
        }
        const setStmt = t.text === 'set' && ['add', 'update', 'delete'].includes(cur.peekAt(1).text);
        if (t.kind === 'word' && !setStmt && (t.text === 'chain' || t.text === 'set' || t.text === 'map' || t.text === 'table')) {
          // A block keyword where a rule should be: the chain's '}' is missing. Leave the
          // keyword to the enclosing table so that the rest of the file still parses.
          cur.problem('syntax', `expected '}' to close chain '${nameTok.text}' before '${t.text}'`, t);
          chain.last = cur.prev;
          chain.unclosed = true;
          return chain;
        }
        this.guard(() => this.chainItem(chain, table));
      }
    } finally {
      cur.closeScope();
    }
    cur.expect('}');
    chain.last = cur.prev;
    return chain;
  }

  private chainItem(chain: ChainDecl, table: string): void {
    const cur = this.cur;
    if (this.commonBlock()) return;
    const t = cur.peek();
    if (cur.isWord('type')) {
      const hook = this.hookSpec();
      const same = (a: HookSpec, b: HookSpec): boolean => a.prioTokens.map((x) => x.text).join(' ') === b.prioTokens.map((x) => x.text).join(' ') && a.typeTok.text === b.typeTok.text && a.hookTok.text === b.hookTok.text;
      if (chain.hook && !same(chain.hook, hook)) cur.problem('invalid-value', `chain '${chain.nameTok.text}' already has another type, hook or priority`, hook);
      else chain.hook ??= hook;
      cur.separator('the chain type declaration');
      return;
    }
    if (cur.isWord('policy')) {
      cur.next();
      let value: Token | VarExpr;
      const v = cur.peek();
      if (cur.isPunct('$')) value = this.rp.variable();
      else if (cur.isWord('accept') || cur.isWord('drop')) value = cur.next();
      else throw new ParseError(v, `expected 'accept' or 'drop' after 'policy', found ${describe(v)}`);
      const span = { first: t, last: cur.prev };
      if (chain.policy) cur.problem('syntax', 'you cannot set chain policy twice', span);
      else chain.policy = { value, span };
      cur.separator('the policy');
      return;
    }
    if (cur.isWord('flags')) {
      cur.next();
      cur.expect('offload', "'offload'");
      cur.separator('the chain flags');
      return;
    }
    if (cur.isWord('comment')) {
      cur.next();
      const s = this.rp.stringArg('a comment string');
      if (chain.comment !== undefined) cur.problem('syntax', 'You can only specify this once. This statement is duplicated.', { first: t, last: s });
      chain.comment = s.text;
      cur.separator('the comment');
      return;
    }
    const kept = this.keptRule(table);
    if (kept) {
      chain.rules.push(kept);
      cur.separator('the rule');
      return;
    }
    const problems = cur.problems.length;
    const rule = this.rp.parseRule();
    chain.rules.push(rule);
    // Only a cache can use it (the next version's parser skips such a line).
    if (this.cache) rule.wholeLine = cur.problems.length === problems && cur.peek().kind === 'nl' && cur.peek().pos === rule.last.end && rule.first.src === 0 && !this.cur.sources[0].text.slice(rule.first.pos, rule.last.end).includes('\r');
    cur.separator('the rule');
  }

  /**
   * The rule at the cursor, when the previous version kept it as a whole line of this table at
   * this column: its text is skipped, not read again, and the node carries what was kept.
   */
  private keptRule(table: string): RuleNode | undefined {
    if (!this.cache) return undefined;
    const line = this.cur.restOfLine();
    if (!line) return undefined;
    const defines = this.definesOfLine(line.text);
    if (defines === undefined) return undefined;
    const kept = findKept(this.cache, { source: line.text, table, column: line.column, defines });
    if (!kept?.wholeLine) return undefined;
    const first = line.first;
    const last: Token = { kind: kept.wholeLine.kind, text: kept.wholeLine.text, pos: first.pos + kept.wholeLine.pos, end: first.pos + line.text.length, src: 0 };
    this.cur.skipRestOfLine(last);
    return { first, last, stmts: [], comment: kept.comment, vars: [], wholeLine: true, kept };
  }

  /**
   * The defines key (lower-cache.ts) of the variables a line of text names, by their names as
   * bound here. A name read wrongly (`$x` in a quoted string, say) gives another key than the
   * kept rule's, which only means the line is read as usual.
   */
  private definesOfLine(text: string): string | undefined {
    if (!text.includes('$')) return '';
    const defs: Define[] = [];
    for (const m of text.matchAll(VARIABLE)) {
      const d = this.cur.lookup(m[1]);
      if (!d) return undefined;
      defs.push(d);
    }
    return definesKey(defs, this.cur);
  }

  private hookSpec(): HookSpec {
    const cur = this.cur;
    const first = cur.next(); // type
    const typeTok = cur.peek();
    if (!isStringKind(typeTok.kind) || (typeTok.kind === 'word' && GLOBAL_KEYWORDS.has(typeTok.text))) throw new ParseError(typeTok, `expected a chain type (filter, nat, route), found ${describe(typeTok)}`);
    cur.next();
    if (!['filter', 'nat', 'route'].includes(typeTok.text)) throw new ParseError(typeTok, `unknown chain type '${typeTok.text}': expected filter, nat or route`, undefined, 'invalid-value');
    cur.expect('hook', "'hook'");
    const hookTok = cur.peek();
    if (!isStringKind(hookTok.kind) || (hookTok.kind === 'word' && GLOBAL_KEYWORDS.has(hookTok.text))) throw new ParseError(hookTok, `expected a hook name (prerouting, input, forward, output, postrouting, ingress), found ${describe(hookTok)}`);
    cur.next();
    if (!['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress'].includes(hookTok.text)) {
      throw new ParseError(hookTok, `unknown chain hook '${hookTok.text}': expected prerouting, input, forward, output, postrouting, ingress or egress`, undefined, 'invalid-value');
    }
    let device: Expr | undefined;
    if (cur.isWord('device')) {
      cur.next();
      if (cur.isPunct('$')) device = this.rp.variable();
      else device = { t: 'val', tok: this.rp.stringArg('a device name'), first: cur.prev, last: cur.prev };
    } else if (cur.isWord('devices')) {
      cur.next();
      cur.expect('=');
      device = cur.isPunct('$') ? this.rp.variable() : this.rp.setExpr();
    }
    const prioStart = cur.expect('priority', "'priority'");
    const prio: HookSpec['prio'] = {};
    const prioTokens: Token[] = [prioStart];
    const p = cur.peek();
    if (cur.isPunct('-') && cur.peekAt(1).kind === 'num') {
      cur.next();
      const n = cur.next();
      // nft keeps the priority in a 32-bit int.
      prio.num = Number(BigInt.asIntN(32, -BigInt(n.text)));
      prioTokens.push(p, n);
    } else if (p.kind === 'num') {
      cur.next();
      prio.num = Number(BigInt.asIntN(32, BigInt(p.text)));
      prioTokens.push(p);
    } else if (cur.isPunct('$')) {
      prio.variable = this.rp.variable();
      prioTokens.push(prio.variable.first, prio.variable.last);
    } else if (isStringKind(p.kind) && !(p.kind === 'word' && GLOBAL_KEYWORDS.has(p.text))) {
      cur.next();
      prio.name = p;
      prioTokens.push(p);
      if (cur.isPunct('+') || cur.isPunct('-')) {
        const op = cur.next();
        const n = this.rp.number('a number');
        prio.offset = (op.text === '-' ? -1 : 1) * Number(n.text);
        prioTokens.push(op, n);
      }
    } else throw new ParseError(p, `expected a priority (a number, or a name such as filter, raw, mangle, dstnat, srcnat, security), found ${describe(p)}`);
    return { typeTok, hookTok, device, prio, prioTokens, first, last: cur.prev };
  }

  // ---- sets and maps ---------------------------------------------------------------------------

  private setDecl(kind: 'set' | 'map'): SetDecl {
    const cur = this.cur;
    const nameTok = cur.identifier(`a ${kind} name`);
    const decl: SetDecl = { kind, nameTok, flags: [], first: nameTok, last: nameTok };
    cur.expect('{', `'{' after the ${kind} name`);
    for (;;) {
      const t = cur.peek();
      if (cur.isPunct('}')) break;
      if (t.kind === 'eof') throw new ParseError(t, `expected '}' to close ${kind} '${nameTok.text}', found end of file`);
      if (cur.atSeparator()) {
        cur.next();
        continue;
      }
      if (t.kind === 'word' && (t.text === 'chain' || t.text === 'table')) {
        cur.problem('syntax', `expected '}' to close ${kind} '${nameTok.text}' before '${t.text}'`, t);
        decl.last = cur.prev;
        decl.unclosed = true;
        return decl;
      }
      this.guard(() => this.setItem(decl));
    }
    cur.expect('}');
    decl.last = cur.prev;
    return decl;
  }

  private setItem(decl: SetDecl): void {
    const cur = this.cur;
    if (this.commonBlock()) return;
    const t = cur.peek();
    const w = t.kind === 'word' ? t.text : '';
    switch (w) {
      case 'type': {
        cur.next();
        decl.typeToks = this.dataTypeExpr();
        if (decl.kind === 'map') {
          cur.expect(':', `':' and the data type of the map`);
          if (cur.accept('interval')) decl.dataInterval = true;
          const d = cur.peek();
          if (d.kind === 'word' && ['counter', 'quota', 'limit', 'secmark', 'synproxy'].includes(d.text)) {
            cur.next();
            decl.dataToks = [d];
          } else decl.dataToks = this.dataTypeExpr();
        }
        cur.separator('the type');
        return;
      }
      case 'typeof': {
        cur.next();
        decl.typeofExprs = this.typeofExpr();
        if (decl.kind === 'map') {
          cur.expect(':', `':' and the data of the map`);
          if (cur.accept('interval')) decl.dataInterval = true;
          const d = cur.peek();
          if (d.kind === 'word' && d.text === 'verdict') {
            cur.next();
            decl.dataToks = [d];
          } else {
            const parts = this.typeofExpr();
            decl.dataTypeof = parts.length === 1 ? parts[0] : { t: 'concat', parts, first: parts[0].first, last: parts[parts.length - 1].last };
          }
        }
        cur.separator('the typeof declaration');
        return;
      }
      case 'flags': {
        cur.next();
        do {
          const f = cur.peek();
          if (!(f.kind === 'word' && SET_FLAGS.has(f.text))) throw new ParseError(f, `expected a set flag (constant, interval, timeout, dynamic), found ${describe(f)}`);
          cur.next();
          decl.flags.push({ tok: f, name: f.text });
        } while (cur.accept(','));
        cur.separator('the flags');
        return;
      }
      case 'timeout':
      case 'gc-interval':
        cur.next();
        this.rp.timeSpec();
        if (w === 'timeout') decl.hasTimeout = true;
        else decl.gcInterval = t;
        cur.separator(`the ${w}`);
        return;
      case 'elements':
        cur.next();
        cur.expect('=');
        decl.elements = this.setBlockExpr();
        return;
      case 'auto-merge':
        cur.next();
        decl.autoMerge = t;
        return;
      case 'policy':
        cur.next();
        if (!cur.accept('performance')) cur.expect('memory', "'performance' or 'memory'");
        cur.separator('the policy');
        return;
      case 'size':
        cur.next();
        this.rp.number('a size');
        cur.separator('the size');
        return;
      case 'comment':
        cur.next();
        this.rp.stringArg('a comment string');
        cur.separator('the comment');
        return;
      case 'counter':
      case 'limit':
      case 'quota':
      case 'ct': {
        while (cur.isWord('counter') || cur.isWord('limit') || cur.isWord('quota') || cur.isWord('ct')) this.rp.parseStatement();
        decl.stateful = true;
        cur.separator('the statement');
        return;
      }
    }
    throw new ParseError(t, `expected type, typeof, flags, elements, timeout, size, policy, comment or '}' in the ${decl.kind}, found ${describe(t)}`);
  }

  /** Datatype names joined by '.': ipv4_addr . inet_service */
  private dataTypeExpr(): Token[] {
    const cur = this.cur;
    const out: Token[] = [];
    do {
      const t = cur.peek();
      if (t.kind === 'word' && (!GLOBAL_KEYWORDS.has(t.text) || ['mark', 'ecn', 'time'].includes(t.text))) out.push(cur.next());
      else if (isStringKind(t.kind) && t.kind !== 'word') out.push(cur.next());
      else throw new ParseError(t, `expected a data type (ipv4_addr, ipv6_addr, inet_service, ifname, mark ...), found ${describe(t)}`);
    } while (cur.accept('.'));
    return out;
  }

  private typeofExpr(): Expr[] {
    const cur = this.cur;
    const parts: Expr[] = [];
    do parts.push(this.rp.lhsConcat());
    while (cur.accept('.'));
    return parts.flatMap((p) => (p.t === 'concat' ? p.parts : [p]));
  }

  /** elements = { ... } | $var */
  private setBlockExpr() {
    const cur = this.cur;
    if (cur.isPunct('$')) return this.rp.variable();
    if (!cur.isPunct('{')) throw new ParseError(cur.peek(), `expected '{' with the elements, found ${describe(cur.peek())}`);
    return this.rp.setExpr();
  }

  // ---- objects and flowtables -------------------------------------------------------------------

  private flowtableBlock(): void {
    const cur = this.cur;
    cur.expect('{');
    for (;;) {
      const t = cur.peek();
      if (cur.isPunct('}')) break;
      if (t.kind === 'eof') throw new ParseError(t, `expected '}' to close the flowtable, found end of file`);
      if (cur.atSeparator()) {
        cur.next();
        continue;
      }
      this.guard(() => {
        if (this.commonBlock()) return;
        if (cur.accept('hook')) {
          const h = cur.next();
          if (h.text !== 'ingress') throw new ParseError(h, `unknown flowtable hook '${h.text}' (expected ingress)`);
          cur.expect('priority', "'priority'");
          if (cur.accept('-')) this.rp.number('a number');
          else if (cur.peek().kind === 'num') cur.next();
          else cur.identifier('a priority');
          if (cur.accept('+') || cur.accept('-')) this.rp.number('a number');
          cur.separator('the hook');
        } else if (cur.accept('devices')) {
          cur.expect('=');
          if (cur.isPunct('$')) this.rp.variable();
          else this.rp.setExpr();
          cur.separator('the devices');
        } else if (cur.accept('counter')) {
          // no separator needed
        } else if (cur.accept('flags')) {
          cur.expect('offload', "'offload'");
          cur.separator('the flags');
        } else throw new ParseError(t, `expected hook, devices, counter or flags in the flowtable, found ${describe(t)}`);
      });
    }
    cur.expect('}');
  }

  /**
   * A counter, quota, limit or ct helper block, read as nft's grammar reads it: its settings in
   * any order, separators and comments between them (a ct helper's settings each end with a
   * separator). The kernel refuses a limit without a rate (EINVAL) and a helper without a type
   * (ERANGE). Other objects' blocks are skipped.
   */
  private objBlock(kind: string, nameTok: Token): boolean {
    if (!['counter', 'quota', 'limit', 'ct helper'].includes(kind)) return this.skipBlock(kind);
    const cur = this.cur;
    let configured = false;
    const closed = this.objectItems(kind, (t) => {
      if (cur.accept('comment')) {
        this.rp.stringArg('a comment string');
        return;
      }
      // A helper's l3proto alone configures nothing.
      if (!cur.isWord('l3proto')) configured = true;
      if (kind === 'quota') {
        if (this.rp.quotaConfig()) this.rp.overusedQuota(nameTok);
      } else if (kind === 'limit') {
        cur.expect('rate', "'rate', 'comment' or '}'");
        this.rp.limitConfig();
      } else if (kind === 'counter') {
        cur.expect('packets', "'packets', 'comment' or '}'");
        this.rp.number('a number');
        cur.expect('bytes', "'bytes'");
        this.rp.number('a number');
      } else {
        if (cur.accept('type')) {
          const name = cur.peek();
          if (name.kind !== 'quoted') throw new ParseError(name, `expected the helper's name in quotes ("ftp"), found ${describe(name)}`);
          cur.next();
          cur.expect('protocol', "'protocol'");
          if (!cur.accept('tcp')) cur.expect('udp', "'tcp' or 'udp'");
        } else if (cur.accept('l3proto')) {
          const f = cur.peek();
          if (!['ip', 'ip6', 'inet'].includes(f.text)) throw new ParseError(f, `expected ip, ip6 or inet after 'l3proto', found ${describe(f)}`);
          cur.next();
        } else throw new ParseError(t, `expected type, l3proto, comment or '}' in the ct helper, found ${describe(t)}`);
        if (!cur.atSeparator()) throw new ParseError(cur.peek(), `expected a newline or ';' after the ct helper's setting, found ${describe(cur.peek())}`);
      }
    });
    if (!closed) return false;
    if (!configured && kind === 'limit') cur.problem('invalid-value', 'Could not process rule: Invalid argument (a limit needs a rate)', nameTok);
    if (!configured && kind === 'ct helper') cur.problem('invalid-value', 'Could not process rule: Numerical result out of range (a ct helper needs a type)', nameTok);
    return true;
  }

  /**
   * counter/quota/limit/ct/... object blocks: statements up to '}'. Their content is not
   * modelled; a block keyword where a statement should be means the '}' is missing.
   */
  private skipBlock(kind: string): boolean {
    const cur = this.cur;
    return this.objectItems(kind, () => {
      // One statement: tokens up to the separator (a nested { } such as a ct timeout policy included).
      let depth = 0;
      while (!cur.atEnd()) {
        if (depth === 0 && (cur.atSeparator() || cur.isPunct('}'))) break;
        if (cur.isPunct('{')) depth++;
        else if (cur.isPunct('}')) depth--;
        cur.next();
      }
    });
  }

  /**
   * An object block from its '{' to its '}', separators between its items; `item` reads one item,
   * starting at token `t`. False when a block keyword where an item should be shows that the '}'
   * is missing (reported; the keyword is left to the enclosing block).
   */
  private objectItems(kind: string, item: (t: Token) => void): boolean {
    const cur = this.cur;
    cur.expect('{', `'{' after the ${kind} name`);
    for (;;) {
      const t = cur.peek();
      if (cur.isPunct('}')) break;
      if (t.kind === 'eof') throw new ParseError(t, `expected '}' to close the ${kind}, found end of file`);
      if (cur.atSeparator()) {
        cur.next();
        continue;
      }
      if (t.kind === 'word' && BLOCK_WORDS.has(t.text)) {
        cur.problem('syntax', `expected '}' to close the ${kind} before '${t.text}'`, t);
        return false;
      }
      item(t);
    }
    cur.expect('}');
    return true;
  }

  /** `add counter t c packets 1 bytes 2`, `add quota t q 10 mbytes`, `add limit t l rate 1/second`. */
  private objConfig(kind: string, nameTok: Token): void {
    const cur = this.cur;
    if (kind === 'counter') {
      if (cur.accept('packets')) {
        this.rp.number('a number');
        cur.expect('bytes', "'bytes'");
        this.rp.number('a number');
      }
    } else if (kind === 'quota') {
      if (this.rp.quotaConfig()) this.rp.overusedQuota(nameTok);
    }
    else if (kind === 'limit') {
      cur.expect('rate', "'rate'");
      this.rp.limitConfig();
    } else while (!cur.atSeparator() && !cur.atEnd()) cur.next();
  }
}

function commandName(cmd: Command | undefined): string {
  if (!cmd) return 'the command';
  switch (cmd.c) {
    case 'table':
      return cmd.items ? `the table's '}'` : 'the table command';
    case 'chain':
      return cmd.chain.hasBlock ? `the chain's '}'` : 'the chain command';
    case 'set':
      return `the ${cmd.set.kind}'s '}'`;
    case 'rule':
      return 'the rule';
    default:
      return 'the command';
  }
}

export type { Span };
