// Runs the commands of a parsed file the way `nft -f` applies them to an empty ruleset (what
// `nft -c -f` checks in a fresh network namespace): tables, chains and sets come into existence
// in command order, a reference must find its target by then (a table block's own chains and
// sets exist before its rules), `flush` and `delete` take effect in place. Reports what nft
// reports — unknown hook, bad priority, missing table/chain/set, wrong set element — and keeps
// the lowered rules of every chain.
import type { Range } from '../../model/policy';
import type { ChainDecl, ChainStmt, Command, Expr, Family, NftFile, RuleNode, SetDecl, Span, TableItem, TableRef, VerdictNode } from './ast';
import { tableKey } from './ast';
import type { Cursor } from './cursor';
import type { Token } from './lexer';
import { DATATYPE_BITS } from './datatypes';
import { namedPriority, SET_DATATYPES, UNQUALIFIED_DATATYPES } from './keywords';
import { definesKey, endLowering, keepLowered, LowerCache, reuseKept, reuseLowered, startLowering } from './lower-cache';
import { checkMapKeys, intervalConflict, lowerRule, RuleEnv, selectorInfo } from './rules';
import type { ChainState, LoweredRule, ResolvedElem, SetState, TableState, TypeInfo, VerdictValue } from './state';
import { isInterval, keysEqual, Report, ValueError, ValueResolver } from './values';

const FILTER_HOOKS: Record<Family, string[]> = {
  ip: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  ip6: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  inet: ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress'],
  arp: ['input', 'output'],
  bridge: ['prerouting', 'input', 'forward', 'output', 'postrouting'],
  netdev: ['ingress', 'egress'],
};

interface Pending { rule: RuleNode; chain: ChainState; lowered: LoweredRule }

export class Evaluator {
  readonly tables: TableState[] = [];
  private order = 0;
  /** Rules whose conditions depend on named sets: lowered again once every set has its final contents. */
  private readonly pending: Pending[] = [];
  private quiet = false;

  /** `cache`: the rules kept from the document's previous analysis (see lower-cache.ts). */
  constructor(private readonly cur: Cursor, private readonly cache?: LowerCache) {}

  private readonly report: Report = (code, message, at, data) => {
    if (!this.quiet) this.cur.problem(code, message, at, data);
  };

  private readonly reportAt = (code: 'invalid-value', message: string, range: Range): void => {
    if (!this.quiet) this.cur.problemAt(code, message, range);
  };

  private rangeOf = (s: Span | Token): Range => this.cur.rangeOf(s);

  private rangeBetween = (first: Token, last: Token): Range => this.cur.rangeBetween(first, last);

  run(file: NftFile): TableState[] {
    if (this.cache) startLowering(this.cache);
    for (const cmd of file.commands) this.command(cmd);
    // Sets may still have changed after a rule was read (add element, flush set): lower the
    // rules that use them again with the final contents, without reporting twice.
    this.quiet = true;
    for (const p of this.pending) {
      const again = lowerRule(this.env(p.chain), p.rule);
      if (again) Object.assign(p.lowered, { variants: again.variants });
    }
    this.quiet = false;
    if (this.cache) endLowering(this.cache);
    return this.tables;
  }

  // ---- commands ---------------------------------------------------------------------------

  private command(cmd: Command): void {
    switch (cmd.c) {
      case 'table': {
        let t = this.findTable(cmd.ref);
        if (t && cmd.op === 'create') this.report('invalid-value', `Could not process rule: File exists (table ${t.key} exists already; 'create' refuses that, 'add' does not)`, cmd.ref.nameTok);
        if (!t) t = this.createTable(cmd.ref);
        if (cmd.items) this.tableBlock(t, cmd.items);
        return;
      }
      case 'chain': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        const existed = t.chains.has(cmd.chain.nameTok.text);
        if (existed && cmd.op === 'create') this.report('invalid-value', `Could not process rule: File exists (chain ${cmd.chain.nameTok.text})`, cmd.chain.nameTok);
        const c = this.ensureChain(t, cmd.chain);
        this.chainHeader(c, cmd.chain);
        this.chainRules(c, cmd.chain);
        return;
      }
      case 'rule': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        const c = t.chains.get(cmd.chainTok.text);
        if (!c) {
          this.report('undefined-reference', `chain '${cmd.chainTok.text}' does not exist in table ${t.key}`, cmd.chainTok);
          return;
        }
        const lowered = this.lower(c, cmd.rule);
        if (!lowered) return;
        if (cmd.op === 'replace' || cmd.position?.kind === 'handle') {
          // Handles are given by the kernel when rules load: a file cannot name one of its own.
          this.report('undefined-reference', `Could not process rule: No such file or directory (no rule has handle ${cmd.position?.tok.text ?? '?'}: handles are given by the kernel, a ruleset file cannot refer to them)`, cmd.position?.tok ?? cmd.span);
          return;
        }
        if (cmd.position && cmd.position.kind !== 'index') {
          this.report('unsupported', `rule positions are given by the kernel; the rule is placed as if the position were not given`, cmd.position.tok);
        }
        let at = cmd.op === 'insert' ? 0 : c.rules.length;
        if (cmd.position?.kind === 'index') {
          const idx = Number(cmd.position.tok.text);
          if (idx >= c.rules.length) {
            this.report('undefined-reference', `Could not process rule: No such file or directory (chain ${c.name} has no rule at index ${idx})`, cmd.position.tok);
            return;
          }
          at = cmd.op === 'insert' ? idx : idx + 1;
        }
        c.rules.splice(at, 0, lowered);
        return;
      }
      case 'set': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        const s = this.declareSet(t, cmd.set, cmd.op === 'create');
        if (s) this.setElements(t, s, cmd.set);
        return;
      }
      case 'element': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        const s = t.sets.get(cmd.setTok.text);
        if (!s) {
          this.report('undefined-reference', `set '${cmd.setTok.text}' does not exist in table ${t.key}`, cmd.setTok);
          return;
        }
        const elems = this.resolveElements(t, s, cmd.elems);
        if (!elems) return;
        if (cmd.op === 'get') {
          this.report('undefined-reference', `Could not process rule: No such file or directory ('get element' asks the kernel, which has no such element while this file loads)`, { first: cmd.elems.first, last: cmd.elems.last });
          return;
        }
        if (cmd.op === 'delete') {
          for (const e of elems) {
            const i = s.elements.findIndex((x) => keysEqual(x.key, e.key));
            if (i < 0) {
              this.report('undefined-reference', `Could not process rule: No such file or directory (the element is not in set '${s.name}')`, { first: cmd.elems.first, last: cmd.elems.last });
              return;
            }
            s.elements.splice(i, 1);
          }
          return;
        }
        // nft checks the elements itself first; the kernel's refusals only come after.
        const had = s.elements;
        const isIn = (e: ResolvedElem) => had.some((x) => keysEqual(x.key, e.key));
        if (!this.addElements(s, elems)) return;
        if (s.flags.has('constant') && s.bound) {
          this.report('invalid-value', `Could not process rule: Device or resource busy (set '${s.name}' is constant and a rule uses it: it cannot change)`, cmd.span);
          return;
        }
        // `add` of an element that is there already changes nothing; `create` refuses it.
        if (cmd.op === 'create' && elems.some(isIn)) {
          this.report('invalid-value', `Could not process rule: File exists (an element is in set '${s.name}' already: 'create element' refuses it, 'add element' would not)`, { first: cmd.elems.first, last: cmd.elems.last });
          return;
        }
        if (s.flags.has('constant') && !s.flags.has('interval') && s.decl.elements && !elems.every(isIn)) {
          // A constant hash set declared with elements is sized for them: the kernel refuses more (ENFILE).
          this.report('invalid-value', `Could not process rule: Too many open files in system (set '${s.name}' is constant: it cannot get elements after it was filled)`, { first: cmd.elems.first, last: cmd.elems.last });
          return;
        }
        return;
      }
      case 'obj': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        const name = cmd.obj.nameTok.text;
        if (cmd.op === 'delete') {
          if (cmd.obj.nameTok.kind !== 'num' && t.objs.get(name) !== cmd.obj.kind) this.report('undefined-reference', `${cmd.obj.kind} '${name}' does not exist in table ${t.key}`, cmd.obj.nameTok);
          t.objs.delete(name);
        } else t.objs.set(name, cmd.obj.kind);
        return;
      }
      case 'flowtable': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        if (cmd.op === 'delete') {
          if (cmd.nameTok.kind !== 'num' && !t.flowtables.has(cmd.nameTok.text)) this.report('undefined-reference', `flowtable '${cmd.nameTok.text}' does not exist in table ${t.key}`, cmd.nameTok);
          t.flowtables.delete(cmd.nameTok.text);
        } else t.flowtables.add(cmd.nameTok.text);
        return;
      }
      case 'delete': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        if (cmd.what === 'table') {
          this.tables.splice(this.tables.indexOf(t), 1);
          return;
        }
        if (cmd.what === 'rule' || cmd.handleTok) {
          this.report('undefined-reference', `Could not process rule: No such file or directory (nothing has handle ${cmd.handleTok?.text ?? '?'}: handles are given by the kernel, a ruleset file cannot refer to them)`, cmd.handleTok ?? cmd.span);
          return;
        }
        const name = cmd.nameTok!.text;
        if (cmd.what === 'chain') {
          const users = chainUsers(t, name);
          if (!t.chains.has(name)) this.report('undefined-reference', `chain '${name}' does not exist in table ${t.key}`, cmd.nameTok!);
          else if (users) this.report('invalid-value', `Could not process rule: Device or resource busy (chain '${name}' is the target of ${users})`, cmd.span);
          else t.chains.delete(name);
        } else if (!t.sets.delete(name)) this.report('undefined-reference', `${cmd.what} '${name}' does not exist in table ${t.key}`, cmd.nameTok!);
        return;
      }
      case 'flush': {
        if (cmd.what === 'ruleset') {
          for (let i = this.tables.length - 1; i >= 0; i--) if (!cmd.family || this.tables[i].family === cmd.family) this.tables.splice(i, 1);
          return;
        }
        const t = this.requireTable(cmd.ref!);
        if (!t) return;
        if (cmd.what === 'table') {
          for (const c of t.chains.values()) c.rules = [];
          return;
        }
        const name = cmd.nameTok!.text;
        if (cmd.what === 'chain') {
          const c = t.chains.get(name);
          if (!c) this.report('undefined-reference', `chain '${name}' does not exist in table ${t.key}`, cmd.nameTok!);
          else c.rules = [];
        } else if (cmd.what === 'set' || cmd.what === 'map') {
          const s = t.sets.get(name);
          if (!s) this.report('undefined-reference', `${cmd.what} '${name}' does not exist in table ${t.key}`, cmd.nameTok!);
          else s.elements = [];
        }
        return;
      }
      case 'rename': {
        const t = this.requireTable(cmd.ref);
        if (!t) return;
        // The kernel renames only chains that existed before the file: none in a fresh load.
        this.report('undefined-reference', `Could not process rule: No such file or directory (rename works on a chain loaded before, not one of this file; declare it with its new name)`, cmd.chainTok);
        return;
      }
      case 'noop':
        return;
    }
  }

  private findTable(ref: TableRef): TableState | undefined {
    return this.tables.find((t) => t.family === ref.family && t.name === ref.nameTok.text);
  }

  private requireTable(ref: TableRef): TableState | undefined {
    const t = this.findTable(ref);
    if (!t) this.report('undefined-reference', `table ${ref.family} ${ref.nameTok.text} does not exist at this point of the file`, ref.nameTok);
    return t;
  }

  private createTable(ref: TableRef): TableState {
    const t: TableState = {
      family: ref.family, name: ref.nameTok.text, key: tableKey(ref), nameTok: ref.nameTok,
      range: this.rangeOf({ first: ref.familyTok ?? ref.nameTok, last: ref.nameTok }),
      chains: new Map(), sets: new Map(), objs: new Map(), flowtables: new Set(), meters: new Map(), order: this.order++,
    };
    this.tables.push(t);
    return t;
  }

  private tableBlock(t: TableState, items: TableItem[]): void {
    // nft creates the block's sets, objects and chains first, then fills them.
    for (const it of items) {
      if (it.i === 'chain') this.chainHeader(this.ensureChain(t, it.chain), it.chain);
      else if (it.i === 'set') this.declareSet(t, it.set, false);
      else if (it.i === 'obj') t.objs.set(it.obj.nameTok.text, it.obj.kind);
      else if (it.i === 'flowtable') t.flowtables.add(it.ft.nameTok.text);
    }
    for (const it of items) {
      if (it.i !== 'set') continue;
      const s = t.sets.get(it.set.nameTok.text);
      if (s) this.setElements(t, s, it.set);
    }
    for (const it of items) if (it.i === 'chain') this.chainRules(t.chains.get(it.chain.nameTok.text)!, it.chain);
  }

  // ---- chains -------------------------------------------------------------------------------

  private ensureChain(t: TableState, decl: ChainDecl): ChainState {
    const name = decl.nameTok.text;
    let c = t.chains.get(name);
    if (!c) {
      c = { name, nameTok: decl.nameTok, range: this.rangeOf(decl.nameTok), decl, table: t, rules: [], order: this.order++ };
      t.chains.set(name, c);
    }
    return c;
  }

  /** Type, hook, priority and policy: they exist before any rule of the block is added. */
  private chainHeader(c: ChainState, decl: ChainDecl): void {
    // A bad type/hook/priority is reported once; its policy is not checked on top of that.
    if (decl.hook && !this.hook(c, decl)) return;
    if (decl.policy) {
      let v: Expr | typeof decl.policy.value = decl.policy.value;
      while ('t' in v && v.t === 'var' && v.def) v = v.def.value;
      const text = 't' in v ? (v.t === 'val' ? v.tok.text : '') : v.text;
      if (text !== 'accept' && text !== 'drop') this.report('invalid-value', `wrong policy: expected accept or drop`, decl.policy.span);
      else if (!c.hook) this.report('invalid-value', `Could not process rule: Operation not supported (a policy needs a base chain: add 'type filter hook ... priority ...;')`, decl.policy.span);
      else {
        c.policy = text;
        c.policyRange = this.rangeOf(decl.policy.span);
      }
    }
  }

  private chainRules(c: ChainState, decl: ChainDecl): void {
    for (const r of decl.rules) {
      const lowered = this.lower(c, r);
      if (lowered) c.rules.push(lowered);
    }
  }

  private hook(c: ChainState, decl: ChainDecl): boolean {
    const h = decl.hook!;
    const fam = c.table.family;
    const type = h.typeTok.text;
    const hook = h.hookTok.text;
    if (!FILTER_HOOKS[fam].includes(hook)) {
      this.report('invalid-value', `The ${fam} family does not support the ${hook} hook`, h.hookTok);
      return false;
    }
    const natOk = ['prerouting', 'input', 'output', 'postrouting'].includes(hook) && (fam === 'ip' || fam === 'ip6' || fam === 'inet');
    if ((type === 'nat' && !natOk) || (type === 'route' && !(hook === 'output' && (fam === 'ip' || fam === 'ip6' || fam === 'inet')))) {
      this.report('invalid-value', `Could not process rule: Operation not supported (a ${type} chain cannot use the ${hook} hook in the ${fam} family)`, h.hookTok);
      return false;
    }
    if ((fam === 'netdev' || hook === 'ingress' || hook === 'egress') && !h.device) {
      this.report('invalid-value', "Missing `device' in this chain definition", h);
      return false;
    }
    let prio: number | undefined = h.prio.num;
    let name = h.prio.name?.text;
    const offset = h.prio.offset ?? 0;
    if (h.prio.variable) {
      let v: Expr | undefined = h.prio.variable.def?.value;
      while (v && v.t === 'var' && v.def) v = v.def.value;
      if (v?.t === 'val' && v.tok.kind === 'num') prio = Number(v.tok.text);
      else if (v?.t === 'val' && v.tok.text.startsWith('-') && /^-\d+$/.test(v.tok.text)) prio = Number(v.tok.text);
      else if (v?.t === 'val') name = v.tok.text;
      else {
        this.report('invalid-value', 'invalid priority expression value in this context.', h.prio.variable);
        return false;
      }
    }
    if (name !== undefined) {
      const base = namedPriority(name, fam);
      const natOnly = (name === 'dstnat' && hook !== 'prerouting') || (name === 'srcnat' && hook !== 'postrouting');
      const bridgeOnly = fam === 'bridge' && ((name === 'dstnat' && hook !== 'prerouting') || (name === 'srcnat' && hook !== 'postrouting') || (name === 'out' && hook !== 'output'));
      if (base === undefined || (fam !== 'bridge' && natOnly) || bridgeOnly) {
        this.report('invalid-value', `invalid priority '${name}' for the ${hook} hook of the ${fam} family: use a number or one of ${fam === 'bridge' ? 'filter, dstnat (prerouting), out (output), srcnat (postrouting)' : 'raw, mangle, filter, security, dstnat (prerouting), srcnat (postrouting)'}`, h.prio.name ?? h);
        return false;
      }
      prio = base + offset;
    }
    if (prio === undefined || !Number.isFinite(prio)) {
      this.report('invalid-value', `priority out of range`, h);
      return false;
    }
    if (type === 'nat' && prio <= -200) {
      this.report('invalid-value', `Could not process rule: Operation not supported (a nat chain needs a priority above -200, after conntrack)`, decl.nameTok);
      return false;
    }
    if (c.hook && (c.type !== type || c.hookName !== hook || c.priority !== prio)) {
      this.report('invalid-value', `Could not process rule: Operation not supported (chain ${c.name} was declared with another type, hook or priority)`, decl.nameTok);
      return false;
    }
    c.hook = h;
    c.hookRange = this.rangeOf(h);
    c.type = type;
    c.hookName = hook;
    c.priority = prio;
    return true;
  }

  // ---- rules --------------------------------------------------------------------------------

  private readonly envs = new Map<ChainState, RuleEnv>();

  private env(chain: ChainState): RuleEnv {
    let e = this.envs.get(chain);
    if (!e) {
      e = this.makeEnv(chain);
      this.envs.set(chain, e);
    }
    return e;
  }

  private makeEnv(chain: ChainState): RuleEnv {
    return {
      report: this.report,
      reportAt: this.reportAt,
      rangeOf: this.rangeOf,
      rangeBetween: this.rangeBetween,
      textOf: (s) => this.textOf(s),
      table: chain.table,
      chain,
      anonymousChain: (parent, stmt) => this.anonymousChain(parent, stmt),
    };
  }

  private lower(c: ChainState, rule: RuleNode): LoweredRule | undefined {
    const cache = this.cache;
    // Rules of included files are never kept.
    if (!cache || rule.first.src !== 0 || rule.last.src !== 0) return this.lowerNow(c, rule);
    const range = this.rangeBetween(rule.first, rule.last);
    const { line, character } = range.start;
    // The parser skipped the rule's text: it found what was kept for it.
    if (rule.kept) {
      const k = reuseKept(cache, rule.kept, line);
      return { node: rule, range, text: k.text, comment: rule.comment, variants: k.variants, keys: k.keys };
    }
    // Nor are rules naming a define of an included file.
    const defines = definesKey(rule.vars, this.cur);
    if (defines === undefined) return this.lowerNow(c, rule);
    const at = { source: this.cur.sources[0].text.slice(rule.first.pos, rule.last.end), table: c.table.key, column: character, defines };
    const reused = reuseLowered(cache, at, line, rule);
    if (reused) return { node: rule, range, text: reused.text, comment: rule.comment, variants: reused.variants, keys: reused.keys };
    const problems = this.cur.problems.length;
    const lowered = this.lowerNow(c, rule);
    if (lowered?.pure && this.cur.problems.length === problems) lowered.keys = keepLowered(cache, at, line, lowered).keys;
    return lowered;
  }

  private lowerNow(c: ChainState, rule: RuleNode): LoweredRule | undefined {
    const lowered = lowerRule(this.env(c), rule);
    if (lowered?.usesSet) this.pending.push({ rule, chain: c, lowered });
    return lowered;
  }

  private anonymousChain(parent: ChainState, stmt: ChainStmt): ChainState | undefined {
    const t = parent.table;
    const pos = this.rangeOf(stmt).start;
    const name = `${parent.name}#${pos.line + 1}:${pos.character + 1}`;
    if (this.quiet && t.chains.has(name)) return t.chains.get(name);
    const c: ChainState = { name, nameTok: stmt.first, range: this.rangeOf(stmt.first), decl: { nameTok: stmt.first, rules: stmt.rules, hasBlock: true, first: stmt.first, last: stmt.last }, table: t, rules: [], order: this.order++, anonymous: true };
    t.chains.set(name, c);
    for (const r of stmt.rules) {
      const lowered = this.lower(c, r);
      if (lowered) c.rules.push(lowered);
    }
    return c;
  }

  textOf(s: Span): string {
    if (s.first.src !== s.last.src) return '';
    const src = this.cur.sources[s.first.src];
    const raw = src.text.slice(s.first.pos, s.last.end);
    const one = needsFlattening(raw) ? raw.replace(/\\\n/g, ' ').replace(/\s+/g, ' ') : raw;
    if (s.first.src === 0) return one;
    return `${src.path}:${this.cur.position(s.first.src, s.first.pos).line + 1}: ${one}`;
  }

  // ---- sets -----------------------------------------------------------------------------------

  private declareSet(t: TableState, decl: SetDecl, create: boolean): SetState | undefined {
    const name = decl.nameTok.text;
    const existing = t.sets.get(name);
    const types = this.keyTypes(decl);
    const data = decl.kind === 'map' ? this.dataType(decl) : undefined;
    if (existing) {
      const same = existing.isMap === (decl.kind === 'map') && JSON.stringify(existing.keyTypes) === JSON.stringify(types);
      if (create || !same) {
        this.report('invalid-value', `Could not process rule: File exists (${decl.kind} '${name}' is declared already${same ? '' : ' with another type'})`, decl.nameTok);
        return undefined;
      }
      return existing;
    }
    if (!decl.typeToks && !decl.typeofExprs) {
      this.report('syntax', `${decl.kind} '${name}' needs a 'type' or 'typeof' declaration`, decl.nameTok);
    }
    const flags = new Set(decl.flags.map((f) => f.name));
    if (decl.autoMerge && !flags.has('interval')) this.report('invalid-value', 'auto-merge only works with interval sets', decl.autoMerge);
    const timeouts = flags.has('timeout') || !!decl.hasTimeout;
    if (decl.gcInterval && !timeouts) this.report('invalid-value', `Could not process rule: Invalid argument (gc-interval needs 'flags timeout')`, decl.gcInterval);
    const s: SetState = {
      name, decl, isMap: decl.kind === 'map', keyTypes: types, data, flags,
      dynamic: flags.has('dynamic') || flags.has('timeout') || !!decl.hasTimeout,
      elements: [], expiring: false,
    };
    t.sets.set(name, s);
    return s;
  }

  private keyTypes(decl: SetDecl): TypeInfo[] | undefined {
    if (decl.typeToks) {
      const out: TypeInfo[] = [];
      for (const tok of decl.typeToks) {
        const name = tok.text;
        if (UNQUALIFIED_DATATYPES.has(name)) {
          this.report('invalid-value', `unqualified type ${name} specified in ${decl.kind} definition. Try "typeof expression" instead of "type datatype".`, tok);
          return undefined;
        }
        if (!SET_DATATYPES.has(name)) {
          this.report('invalid-value', `unknown datatype ${name}`, tok);
          return undefined;
        }
        out.push({ dtype: name, bits: DATATYPE_BITS[name] ?? 32 });
      }
      return out;
    }
    if (decl.typeofExprs) {
      const out: TypeInfo[] = [];
      for (const e of decl.typeofExprs) {
        const info = e.t === 'sel' ? selectorInfo(e.key) : undefined;
        if (!info) {
          this.report('invalid-value', `typeof needs packet fields such as 'ip saddr' or 'tcp dport'`, e);
          return undefined;
        }
        out.push(info);
      }
      return out;
    }
    return undefined;
  }

  private dataType(decl: SetDecl): SetState['data'] {
    if (decl.dataToks) {
      const name = decl.dataToks.map((t) => t.text).join(' . ');
      if (name === 'verdict') return 'verdict';
      if (['counter', 'quota', 'limit', 'secmark', 'synproxy'].includes(name)) return 'object';
      for (const tok of decl.dataToks) {
        if (!SET_DATATYPES.has(tok.text) && tok.text !== 'verdict') {
          this.report('invalid-value', `unknown datatype ${tok.text}`, tok);
          return undefined;
        }
      }
      const first = decl.dataToks[0].text;
      return { dtype: first, bits: DATATYPE_BITS[first] ?? 32 };
    }
    if (decl.dataTypeof && decl.dataTypeof.t === 'sel') return selectorInfo(decl.dataTypeof.key);
    return undefined;
  }

  private setElements(t: TableState, s: SetState, decl: SetDecl): void {
    if (!decl.elements) return;
    const elems = this.resolveElements(t, s, decl.elements);
    if (elems) this.addElements(s, elems);
  }

  private resolveElements(t: TableState, s: SetState, e: Expr): ResolvedElem[] | undefined {
    if (!s.keyTypes) return undefined;
    const values = new ValueResolver(this.report, this.rangeOf);
    const out: ResolvedElem[] = [];
    const elemsOf = (x: Expr): { key: Expr; value?: Expr | VerdictNode; span: Span }[] => {
      let ex = x;
      while (ex.t === 'var' && ex.def) ex = ex.def.value;
      if (ex.t !== 'set') return [{ key: ex, span: ex }];
      return ex.elems.flatMap((el) => (el.key.t === 'set' && !el.value ? elemsOf(el.key) : [{ key: el.key, value: el.value, span: el }]));
    };
    let failed = false;
    for (const el of elemsOf(e)) {
      try {
        if (el.key.t === 'wild') {
          if (!s.isMap) this.report('invalid-value', `the catch-all element '*' needs a map`, el.key);
          out.push({ key: [], wild: true, at: el.key, data: this.elementData(t, s, el.value, values) });
          continue;
        }
        const keys = values.elements(el.key, s.keyTypes, false);
        if (s.isMap && !el.value) {
          this.report('invalid-value', `map '${s.name}' needs 'key : value' elements`, el.span);
          failed = true;
          continue;
        }
        if (!s.isMap && el.value) {
          this.report('invalid-value', `set '${s.name}' takes keys only; 'key : value' needs a map`, el.span);
          failed = true;
          continue;
        }
        const data = this.elementData(t, s, el.value, values);
        for (const k of keys) {
          if (!s.flags.has('interval') && k.key.some((i) => isInterval(i) || (i.kind === 'str' && i.wildcard))) {
            const isPrefix = el.key.t === 'prefix' || (el.key.t === 'var' && el.key.def?.value.t === 'prefix') || k.key.some((i) => i.kind === 'str' && i.wildcard);
            this.report('invalid-value', `You must add 'flags interval' to your set declaration if you want to add ${isPrefix ? 'prefix' : 'range'} elements`, el.key);
            failed = true;
            continue;
          }
          out.push({ ...k, data });
        }
      } catch (err) {
        if (!(err instanceof ValueError)) throw err;
        failed = true;
      }
    }
    if (hasElementTimeout(e)) {
      s.expiring = true;
      if (!s.flags.has('timeout') && !s.decl.hasTimeout) {
        this.report('invalid-value', `Could not process rule: Invalid argument (an element timeout needs 'flags timeout' on the set)`, e);
        failed = true;
      }
    }
    return failed ? undefined : out;
  }

  private elementData(t: TableState, s: SetState, value: Expr | VerdictNode | undefined, values: ValueResolver): ResolvedElem['data'] {
    if (!value || !s.isMap) return undefined;
    if (value.t === 'verdict') {
      if (s.data !== 'verdict') {
        this.report('invalid-value', `map '${s.name}' does not hold verdicts`, value);
        throw new ValueError('data');
      }
      if (value.kind === 'jump' || value.kind === 'goto') {
        let targetExpr = value.target;
        while (targetExpr && targetExpr.t === 'var' && targetExpr.def) targetExpr = targetExpr.def.value;
        const name = targetExpr && targetExpr.t === 'val' ? targetExpr.tok.text : undefined;
        const target = name ? t.chains.get(name) : undefined;
        if (!target) {
          this.report('undefined-reference', `chain '${name ?? '?'}' does not exist in table ${t.key}`, value.target ?? value);
          throw new ValueError('chain');
        }
        if (target.hook) {
          this.report('invalid-value', `Could not process rule: Operation not supported ('${name}' is a base chain: a ${value.kind} can only go to a regular chain)`, value.target ?? value);
          throw new ValueError('chain');
        }
        return { kind: value.kind, chain: name } as VerdictValue;
      }
      return { kind: value.kind } as VerdictValue;
    }
    if (s.data === 'verdict') {
      this.report('invalid-value', `map '${s.name}' holds verdicts: expected accept, drop, jump <chain> ...`, value);
      throw new ValueError('data');
    }
    if (s.data && typeof s.data === 'object') return values.tuple(value, [s.data]);
    return undefined;
  }

  /** Adds elements unless they conflict with the set's (reported); true when added. */
  private addElements(s: SetState, elems: ResolvedElem[]): boolean {
    const all = [...s.elements, ...elems];
    let ok = true;
    if (s.isMap && s.data === 'verdict') {
      checkMapKeys(all, (msg, r) => {
        this.report('invalid-value', msg, r);
        ok = false;
      });
    } else if (s.flags.has('interval') && !s.decl.autoMerge) {
      const r = intervalConflict(all, s.elements.length);
      if (r) {
        this.report('invalid-value', 'conflicting intervals specified', r);
        ok = false;
      }
    }
    if (ok) s.elements = all;
    return ok;
  }
}

/** What jumps or goes to a chain (a rule or a map element), described; undefined when nothing. */
function chainUsers(t: TableState, name: string): string | undefined {
  for (const c of t.chains.values()) {
    for (const r of c.rules) {
      for (const v of r.variants) {
        if ((v.action.kind === 'jump' || v.action.kind === 'goto') && v.action.chain === name) return `a ${v.action.kind} in chain '${c.name}'`;
      }
    }
  }
  for (const s of t.sets.values()) {
    for (const e of s.elements) {
      const d = e.data as VerdictValue | undefined;
      if (d && 'kind' in d && d.chain === name) return `an element of map '${s.name}'`;
    }
  }
  return undefined;
}

/**
 * Whether a rule's text spans lines or has tabs or double blanks (checked by hand rather than
 * with a regular expression: this runs for every rule).
 */
function needsFlattening(raw: string): boolean {
  let prevBlank = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 10 || c === 9 || c === 92) return true;
    const blank = c === 32;
    if (blank && prevBlank) return true;
    prevBlank = blank;
  }
  return false;
}

function hasElementTimeout(e: Expr): boolean {
  let ex = e;
  while (ex.t === 'var' && ex.def) ex = ex.def.value;
  return ex.t === 'set' && ex.elems.some((el) => el.expires || (el.key.t === 'set' && hasElementTimeout(el.key)));
}
