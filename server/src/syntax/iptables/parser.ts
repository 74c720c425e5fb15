// The iptables-save / iptables-restore file format, read as iptables-restore 1.8.9 (nf_tables
// backend) reads it, line by line:
//   # comment            only with `#` in the first column
//   *filter              starts a table (filter, nat, mangle, raw, security)
//   :INPUT DROP [0:0]    declares a chain: a built-in one with its policy, a user one with `-`
//   [3:180] -A INPUT …   a command, optionally after iptables-save -c counters
//   COMMIT               ends the table (exactly this word)
// and executed on a model of the tables as it goes, because whether a line is accepted depends
// on what came before (a chain must be declared before a rule jumps to it; `-I INPUT 3` needs two
// rules already). Recovery: a bad line is reported and left out, and reading goes on, so one
// mistake never hides the next.
import { finding, type Finding } from '../../model/finding';
import type { Family } from '../../model/policy';
import { chainNameProblem, readCommand, type CommandContext, type ReadCommand } from './command';
import { findTarget, isStandardTargetName } from './extensions';
import { detectFamily } from './family';
import { copyToken, lexWords, splitHeaderWords, TokenPool, type Token } from './lexer';
import { ruleMeaning } from './lower-rule';
import { RuleLine } from './rule-line';
import type { TargetRecord } from './records';
import type { ChainCommandNode, ChainDeclNode, ChainNode, IptablesFile, RuleNode, TableNode } from './tree';
import { lineRange, tokenRange } from './tree';
import { dict } from '../../model/dict';

/** Built-in chains of each table, in iptables-save order. */
export const BUILTIN_CHAINS = dict<readonly string[]>({
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
});

/** iptables-restore reads lines with a 10240-byte buffer: longer lines are split by it. */
const MAX_LINE = 10238;
/** Words per line iptables-restore can hold (255 argv slots, 3 taken by "iptables -t table"). */
const MAX_WORDS = 251;

/**
 * What one parse of a document keeps for the next (the language server parses again after every
 * edit): each clean rule line by its table and text, so that unchanged lines are not read again.
 * Only `-A` lines without findings are kept: what they mean depends on nothing but their text, the
 * table and the family, while their place in a chain is decided again on every parse.
 */
export interface LineCache {
  family?: Family;
  rules: Map<string, CachedRule>;
}

interface CachedRule {
  /** Error-free, as read at its line; handed out moved to wherever the text is now. */
  node: RuleLine;
  /** What executing the rule reads of its target (words copied out of the token pool). */
  target: ExecTarget | undefined;
}

type ExecTarget = Pick<TargetRecord, 'kind' | 'type' | 'name' | 'nameToken'>;

/** What executeRule reads of a rule: the command reader's records, or a cached rule's. */
interface ExecView {
  readonly target: ExecTarget | undefined;
  readonly chainTok: Token | undefined;
  readonly ruleNumTok?: Token;
  readonly commandTok?: Token;
}

export function newLineCache(): LineCache {
  return { rules: new Map() };
}

export function parseIptables(text: string, family?: Family, cache?: LineCache): IptablesFile {
  const detected = family === undefined ? detectFamily(text) : undefined;
  const fam: Family = family ?? detected ?? 4;
  const file: IptablesFile = {
    family: fam,
    familySource: family !== undefined ? 'caller' : detected !== undefined ? 'content' : 'default',
    tables: [],
    findings: [],
    lineCount: 0,
  };
  if (cache && cache.family !== fam) {
    cache.family = fam;
    cache.rules.clear();
  }
  new FileReader(text, file, cache).run();
  return file;
}

interface TableState {
  node: TableNode;
  /** `*name` is not a table iptables has: its lines are read but not executed. */
  unknown: boolean;
  /** Chains named by a -j/-g in this table (iptables-nft refuses to delete them). */
  referenced: Set<string>;
  /**
   * Rules inserted at the head of a chain (`-I CHAIN`), newest last, not yet merged into its
   * `rules`: a file of thousands of -I lines would otherwise move the whole chain each time.
   */
  heads: Map<ChainNode, RuleNode[]>;
}

class FileReader {
  private readonly findings: Finding[];
  private table: TableState | undefined;
  private crReported = false;
  /** Target extensions seen so far: a later `:NAME` clashes with them (they are loaded). */
  private readonly loadedTargets = new Set<string>();
  /** Word objects reused from line to line (rules keep copies of the few they need). */
  private readonly pool = new TokenPool();
  /** What the command reader is told of each line (filled in anew for each). */
  private readonly ctx: CommandContext;

  /** Rule lines of this parse, for the next one (only the lines still there are kept). */
  private readonly kept: Map<string, CachedRule> | undefined;

  constructor(private readonly text: string, private readonly file: IptablesFile, private readonly cache?: LineCache) {
    this.findings = file.findings;
    this.kept = cache ? new Map() : undefined;
    this.ctx = { family: file.family, table: '', line: 0, lineText: '', findings: file.findings };
  }

  run(): void {
    const text = this.text;
    let pos = 0;
    let line = 0;
    const n = text.length;
    while (pos <= n) {
      let eol = text.indexOf('\n', pos);
      const last = eol < 0;
      if (last) eol = n;
      if (last && pos === n) break; // no text after the final newline
      let lineText = text.slice(pos, eol);
      if (lineText.length > 0 && lineText.charCodeAt(lineText.length - 1) === 13) {
        lineText = lineText.slice(0, -1);
        this.reportCr(line, lineText.length);
      }
      this.line(line, lineText);
      line++;
      pos = eol + 1;
    }
    this.file.lineCount = line;
    if (this.cache && this.kept) this.cache.rules = this.kept;
    if (this.table) {
      const t = this.table.node;
      this.findings.push(finding('syntax', `table ${t.name} is not committed: COMMIT is missing at the end of the file`, t.headerRange));
      this.closeTable(line - 1, lineLength(text, line - 1));
    }
  }

  private reportCr(line: number, at: number): void {
    if (this.crReported) return;
    this.crReported = true;
    this.findings.push(finding('syntax', 'Windows line ending (CR LF): iptables-restore reads the CR as part of the line and refuses the file; save it with LF line endings', lineRange(line, at, at + 1)));
  }

  private line(line: number, s: string): void {
    if (s.length === 0) return;
    const c = s.charCodeAt(0);
    if (c === 35 /* # */) return;
    if (s.length > MAX_LINE) {
      this.findings.push(finding('syntax', `line too long: iptables-restore reads at most ${MAX_LINE + 1} characters per line`, lineRange(line, 0, s.length)));
      return;
    }
    const t = this.table;
    if (t && s === 'COMMIT') {
      t.node.commitLine = line;
      this.closeTable(line, s.length);
      return;
    }
    if (c === 42 /* * */) {
      if (t) {
        this.findings.push(finding('syntax', `COMMIT expected before this line: table ${t.node.name} (line ${t.node.line + 1}) is not committed`, lineRange(line, 0, s.length), {
          related: [{ range: t.node.headerRange, message: `table ${t.node.name} starts here` }],
        }));
        this.closeTable(line - 1, 0);
      }
      this.tableHeader(line, s);
      return;
    }
    if (!t) {
      const what = s === 'COMMIT' ? 'COMMIT without a table to commit'
        : isBlank(s) ? 'a line of only spaces: iptables-restore refuses it (an empty line must be empty)'
        : c === 58 /* : */ ? 'chain declaration outside a table: a `*filter` (or other table) line must come first'
        : 'command outside a table: a `*filter` (or other table) line must come first';
      this.findings.push(finding('syntax', what, lineRange(line, 0, s.length)));
      return;
    }
    if (c === 58 /* : */) { this.chainDeclaration(line, s, t); return; }
    this.commandLine(line, s, t);
  }

  private tableHeader(line: number, s: string): void {
    const words = splitHeaderWords(s, 1);
    // Without a name the block is still read (as an unknown table) so that its COMMIT closes it.
    const nameTok = words[0] ?? { text: '', start: 1, end: s.length, quoted: false };
    if (!words[0]) this.findings.push(finding('syntax', 'table name missing after `*`', lineRange(line, 0, s.length)));
    const name = nameTok.text;
    if (!BUILTIN_CHAINS[name] && name !== '') {
      this.findings.push(finding('syntax', `unknown table \`${name}': iptables has filter, nat, mangle, raw and security`, tokenRange(line, nameTok)));
      // Read the block anyway so that its lines are checked; it does not reach the model.
    }
    const previous = this.file.tables.find((x) => x.name === name && x.replacedBy === undefined);
    if (previous) {
      previous.replacedBy = line;
      this.findings.push(finding('syntax', `table ${name} is restored a second time: iptables-restore flushes it here, discarding the rules of line ${previous.line + 1} onwards`, tokenRange(line, nameTok), {
        severity: 'warning',
        related: [{ range: previous.headerRange, message: `first ${name} table` }],
      }));
    }
    const chains = new Map<string, ChainNode>();
    for (const b of BUILTIN_CHAINS[name] ?? []) chains.set(b, { name: b, builtin: true, policy: 'ACCEPT', rules: [] });
    const node: TableNode = {
      name,
      line,
      headerRange: lineRange(line, 0, s.length),
      nameRange: tokenRange(line, nameTok),
      range: lineRange(line, 0, s.length),
      declarations: [],
      commands: [],
      chains,
    };
    this.file.tables.push(node);
    this.table = { node, unknown: !BUILTIN_CHAINS[name], referenced: new Set(), heads: new Map() };
  }

  private closeTable(endLine: number, endChar: number): void {
    const t = this.table as TableState;
    for (const c of t.heads.keys()) rulesOf(t, c);
    t.node.range = { start: t.node.range.start, end: { line: endLine, character: endChar } };
    this.table = undefined;
  }

  private chainDeclaration(line: number, s: string, t: TableState): void {
    if (t.unknown) return;
    const words = splitHeaderWords(s, 1);
    const range = lineRange(line, 0, s.length);
    const nameTok = words[0];
    if (!nameTok) { this.findings.push(finding('syntax', 'chain name missing after `:`', range)); return; }
    const name = nameTok.text;
    const builtin = (BUILTIN_CHAINS[t.node.name] ?? []).includes(name);
    const decl: ChainDeclNode = { line, range, name, nameToken: nameTok, builtin, ok: false };
    if (words[1]) { decl.policy = words[1].text; decl.policyToken = words[1]; }
    if (words[2]) decl.countersToken = words[2];
    t.node.declarations.push(decl);
    const problem = chainNameProblem(name)
      ?? (isStandardTargetName(name) || this.loadedTargets.has(name) ? `chain name \`${name}' clashes with a target name` : undefined);
    if (problem) { this.findings.push(finding('syntax', problem, tokenRange(line, nameTok))); return; }
    const policyTok = words[1];
    if (!policyTok) {
      this.findings.push(finding('syntax', `policy missing: write \`:${name} ${builtin ? 'ACCEPT' : '-'} [0:0]\``, tokenRange(line, nameTok)));
      return;
    }
    const policy = policyTok.text;
    const chains = t.node.chains;
    if (builtin) {
      const ch = chains.get(name) as ChainNode;
      if (policy !== '-') {
        if (policy !== 'ACCEPT' && policy !== 'DROP') {
          this.findings.push(finding('invalid-value', `bad policy \`${policy}': a built-in chain's policy is ACCEPT or DROP`, tokenRange(line, policyTok)));
          return;
        }
        ch.policy = policy;
        ch.policyLine = line;
        ch.policyToken = policyTok;
      }
      ch.declLine = line;
      ch.declToken = nameTok;
      decl.ok = true;
      return;
    }
    if (policy !== '-') {
      this.findings.push(finding('syntax', `\`${name}' is not a built-in chain of table ${t.node.name}, so it has no policy: write \`:${name} - [0:0]\` (iptables-legacy-restore refuses \`${policy}' here)`, tokenRange(line, policyTok), { severity: 'warning' }));
    }
    const existing = chains.get(name);
    if (existing) {
      // iptables-nft empties a user chain that is declared again; iptables-legacy refuses it.
      this.findings.push(finding('syntax', `chain ${name} is declared again: iptables-restore (nf_tables) empties it here, iptables-legacy-restore refuses the file`, tokenRange(line, nameTok), {
        severity: 'warning',
        related: existing.declLine !== undefined && existing.declToken ? [{ range: tokenRange(existing.declLine, existing.declToken), message: 'first declaration' }] : undefined,
      }));
      t.heads.delete(existing);
      existing.rules = [];
      existing.declLine = line;
      existing.declToken = nameTok;
    } else {
      chains.set(name, { name, builtin: false, declLine: line, declToken: nameTok, rules: [] });
    }
    decl.ok = true;
  }

  private commandLine(line: number, s: string, t: TableState): void {
    const key = this.kept && !t.unknown ? `${t.node.name}\u0000${s}` : undefined;
    if (key !== undefined && this.reuse(key, line, t)) return;
    const findingsBefore = this.findings.length;
    let argStart = 0;
    let countersToken: Token | undefined;
    if (s.charCodeAt(0) === 91 /* [ */) {
      const c = readCounters(s);
      if (typeof c === 'string') {
        this.findings.push(finding('syntax', c, lineRange(line, 0, s.length)));
        return;
      }
      countersToken = { text: s.slice(0, c + 1), start: 0, end: c + 1, quoted: false };
      argStart = c + 1;
    }
    const lex = lexWords(s, argStart, s.length, this.pool);
    const ctx = this.ctx;
    ctx.table = t.node.name;
    ctx.line = line;
    ctx.lineText = s;
    if (lex.unterminatedQuote >= 0) {
      this.findings.push(finding('syntax', 'unterminated quote: iptables-restore takes the rest of the line as one word', lineRange(line, lex.unterminatedQuote, s.length), { severity: 'warning' }));
    }
    if (lex.tokens.length === 0) {
      this.findings.push(finding('syntax', 'a line of only spaces: iptables-restore reads it as a command and refuses it (an empty line must be empty)', lineRange(line, 0, s.length)));
      return;
    }
    if (lex.tooLong.length > 0) {
      this.findings.push(finding('syntax', 'word too long: iptables-restore takes at most 1023 characters per word', tokenRange(line, lex.tooLong[0])));
      return;
    }
    if (lex.tokens.length > MAX_WORDS) {
      this.findings.push(finding('syntax', `too many words: iptables-restore takes at most ${MAX_WORDS} per line`, tokenRange(line, lex.tokens[MAX_WORDS])));
      return;
    }
    const read = readCommand(lex.tokens, ctx);
    if (!read.isRule) {
      // Chain commands are few: keep them whole, with their own copies of the pooled words.
      const parsed = read.chainCommandNode();
      const tokens = parsed.tokens.map(copyToken);
      const at = (tok: Token | undefined): Token | undefined => (tok ? tokens[parsed.tokens.indexOf(tok)] ?? copyToken(tok) : undefined);
      parsed.commandToken = at(parsed.commandToken);
      parsed.chainToken = at(parsed.chainToken);
      parsed.argToken = at(parsed.argToken);
      (parsed as { tokens: Token[] }).tokens = tokens;
      t.node.commands.push(parsed);
      if (parsed.ok && !parsed.skipped && !t.unknown) this.executeChainCommand(parsed, t);
      return;
    }
    if (read.target?.type === 'extension') this.loadedTargets.add(read.target.name);
    const node = RuleLine.read(read, line, s, countersToken, argStart, this.file.family, t.node.name);
    t.node.commands.push(node);
    if (!node.ok || node.skipped || t.unknown) return;
    node.meaning = ruleMeaning(read, this.file.family);
    if (key !== undefined && node.command === 'A' && this.findings.length === findingsBefore) {
      node.meaning.key = `${this.file.family}\u0000${t.node.name}\u0000${s.slice(argStart)}`;
      const tg = read.target;
      const target = tg ? { kind: tg.kind, type: tg.type, name: tg.name, nameToken: copyToken(tg.nameToken) } : undefined;
      this.kept!.set(key, { node: node.movedTo(line), target });
    }
    this.executeRule(node, read, t);
  }

  /** A line read by the previous parse of this document: take its meaning instead of reading it again. */
  private reuse(key: string, line: number, t: TableState): boolean {
    const hit = this.kept!.get(key) ?? this.cache!.rules.get(key);
    if (!hit) return false;
    this.kept!.set(key, hit);
    if (hit.target?.type === 'extension') this.loadedTargets.add(hit.target.name);
    const node = hit.node.movedTo(line);
    t.node.commands.push(node);
    // Executing may fail on what came before (an undeclared chain): its words are read again then.
    this.executeRule(node, { target: hit.target, get chainTok() { return node.chainToken; } }, t);
    return true;
  }

  private fail(node: RuleNode | ChainCommandNode, code: 'syntax' | 'invalid-value' | 'undefined-reference', message: string, tok: Token | undefined, extra: Partial<Finding> = {}): void {
    node.ok = false;
    this.findings.push(finding(code, message, tok ? tokenRange(node.line, tok) : node.range, extra));
  }

  /**
   * Runs a rule command on the table; `parsed` has the words (reused after this line). It may be
   * the command reader itself, which RuleLine.load() overwrites: read it before ruleKey loads rules.
   */
  private executeRule(node: RuleLine, parsed: ExecView, t: TableState): void {
    const chains = t.node.chains;
    const chain = chains.get(node.chain);
    if (!chain) {
      this.fail(node, 'syntax', `chain ${node.chain} is not declared in table ${t.node.name}: add \`:${node.chain} - [0:0]\` before this line`, parsed.chainTok);
      return;
    }
    const target = parsed.target;
    if (target && (target.type === 'chain' || target.kind === 'goto')) {
      const dest = chains.get(target.name);
      if (target.kind === 'goto' && target.type !== 'chain') {
        this.fail(node, 'syntax', `-g needs a user-defined chain; ${target.name} is a target (use -j ${target.name})`, target.nameToken);
        return;
      }
      if (!dest) {
        const hint = missingChainHint(target.name, chains, this.file.family);
        this.fail(node, 'undefined-reference', `chain ${target.name} does not exist in table ${t.node.name}: it must be declared before this line${hint}`, target.nameToken, {
          data: { missing: 'chain', name: target.name, table: t.node.name },
        });
        return;
      }
      if (dest.builtin) {
        this.fail(node, 'syntax', `cannot ${target.kind === 'goto' ? 'go to' : 'jump to'} the built-in chain ${target.name}`, target.nameToken);
        return;
      }
      t.referenced.add(target.name);
    }
    if (node.command === 'A') { chain.rules.push(node); return; }
    if (node.command === 'I' && (node.ruleNumber ?? 1) === 1) {
      const head = t.heads.get(chain);
      if (head) head.push(node); else t.heads.set(chain, [node]);
      return;
    }
    const rules = rulesOf(t, chain);
    // Rule numbers count kernel rules: a line with several source or destination addresses is
    // several rules, and a number may fall between them (kernelPosition splits the line then).
    switch (node.command) {
      case 'I': {
        const n = node.ruleNumber ?? 1;
        const at = kernelPosition(rules, n - 1);
        if (at === undefined) {
          this.fail(node, 'invalid-value', `cannot insert at position ${n}: chain ${chain.name} has ${kernelCount(rules)} rule${kernelCount(rules) === 1 ? '' : 's'} here`, parsed.ruleNumTok);
          return;
        }
        rules.splice(at, 0, node);
        return;
      }
      case 'R': {
        const n = node.ruleNumber as number;
        const at = n <= kernelCount(rules) ? kernelPosition(rules, n - 1) : undefined;
        if (at === undefined) {
          this.fail(node, 'invalid-value', `cannot replace rule ${n}: chain ${chain.name} has ${kernelCount(rules)} here`, parsed.ruleNumTok);
          return;
        }
        this.findings.push(finding('syntax', '-R in a restore file: iptables-restore 1.8.9 (nf_tables) crashes on it; iptables-legacy-restore accepts it', tokenRange(node.line, parsed.commandTok as Token), { severity: 'warning' }));
        kernelPosition(rules, n);
        rules[at] = node;
        return;
      }
      case 'D': case 'C': {
        if (node.ruleNumber !== undefined) {
          const n = node.ruleNumber;
          const at = n <= kernelCount(rules) ? kernelPosition(rules, n - 1) : undefined;
          if (at === undefined) {
            this.fail(node, 'invalid-value', `cannot delete rule ${n}: chain ${chain.name} has ${kernelCount(rules)} here`, parsed.ruleNumTok);
            return;
          }
          if (node.command === 'D') {
            kernelPosition(rules, n); // the deleted kernel rule must stand alone
            rules.splice(at, 1);
          }
          return;
        }
        const key = ruleKey(node); // rare: its words are read again
        const at = rules.findIndex((r) => ruleKey(r) === key);
        if (at < 0) {
          this.findings.push(finding('unsupported', `no rule written exactly like this in chain ${chain.name}: iptables compares rules by meaning, Firewall Lens by text, so the analysis ${node.command === 'D' ? 'keeps every rule' : 'cannot check this'}`, node.range, { severity: 'warning' }));
          return;
        }
        if (node.command === 'D') rules.splice(at, 1);
        return;
      }
    }
  }

  private executeChainCommand(node: ChainCommandNode, t: TableState): void {
    const chains = t.node.chains;
    const name = node.chain;
    const chain = name !== undefined ? chains.get(name) : undefined;
    const missing = (): void => this.fail(node, 'undefined-reference', `chain ${name} does not exist in table ${t.node.name}`, node.chainToken);
    switch (node.command) {
      case 'N':
        if (chain) { this.fail(node, 'syntax', `chain ${name} already exists`, node.chainToken); return; }
        chains.set(name as string, { name: name as string, builtin: false, declLine: node.line, declToken: node.chainToken, rules: [] });
        return;
      case 'F':
        if (name !== undefined) { if (!chain) { missing(); return; } t.heads.delete(chain); chain.rules = []; return; }
        t.heads.clear();
        for (const c of chains.values()) c.rules = [];
        return;
      case 'X': {
        const victims = name !== undefined ? (chain ? [chain] : []) : [...chains.values()].filter((c) => !c.builtin);
        if (name !== undefined && !chain) { missing(); return; }
        for (const v of victims) {
          rulesOf(t, v);
          if (v.builtin) { this.fail(node, 'syntax', `the built-in chain ${v.name} cannot be deleted`, node.chainToken); return; }
          if (v.rules.length > 0 || t.referenced.has(v.name)) {
            this.fail(node, 'syntax', `chain ${v.name} cannot be deleted here: it ${v.rules.length > 0 ? 'has rules' : 'is referenced by a rule'} (iptables-restore refuses with "Device or resource busy")`, node.chainToken ?? node.commandToken);
            return;
          }
        }
        for (const v of victims) chains.delete(v.name);
        return;
      }
      case 'P': {
        if (!chain) { missing(); return; }
        if (!chain.builtin) { this.fail(node, 'syntax', `${name} is a user-defined chain: only built-in chains have a policy`, node.chainToken); return; }
        const pol = node.argToken as Token;
        if (pol.text !== 'ACCEPT' && pol.text !== 'DROP') {
          this.fail(node, 'invalid-value', `bad policy \`${pol.text}': a built-in chain's policy is ACCEPT or DROP`, pol);
          return;
        }
        chain.policy = pol.text;
        chain.policyLine = node.line;
        chain.policyToken = pol;
        return;
      }
      case 'E': {
        if (!chain) { missing(); return; }
        const to = (node.argToken as Token).text;
        if (chain.builtin) { this.fail(node, 'syntax', `the built-in chain ${name} cannot be renamed`, node.chainToken); return; }
        if (chains.has(to)) { this.fail(node, 'syntax', `chain ${to} already exists`, node.argToken); return; }
        this.findings.push(finding('unsupported', '-E in a restore file: iptables-restore (nf_tables) 1.8.9 refuses to rename a chain it creates in the same file', node.range, { severity: 'warning' }));
        chains.delete(chain.name);
        chain.name = to;
        chains.set(to, chain);
        return;
      }
      case 'Z': case 'L': case 'S':
        if (name !== undefined && !chain) missing();
        return;
    }
  }
}

/**
 * What `-j name` may have meant when no chain has that name. (Apart from executeRule: its closure
 * would cost every rule an allocation.)
 */
function missingChainHint(name: string, chains: Map<string, ChainNode>, family: Family): string {
  const near = [...chains.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
  const up = name.toUpperCase();
  return near ? ` (did you mean ${near}?)`
    : findTarget(name, family === 4 ? 6 : 4) ? ` (${name} is a target of ${family === 4 ? 'ip6tables' : 'iptables'} only)`
    : up !== name && (findTarget(up, family) || ['ACCEPT', 'DROP', 'RETURN'].includes(up)) ? ` (targets are case-sensitive: ${up})` : '';
}

/**
 * The `[packets:bytes]` prefix, parsed like iptables (strtok on ':' then ']'). Returns the
 * offset of the closing `]`, or a message when iptables would refuse the line.
 */
function readCounters(s: string): number | string {
  const close = s.indexOf(']');
  if (close < 0) return 'counters `[packets:bytes]` without the closing `]`';
  let i = 1;
  while (i < s.length && s[i] === ':') i++;
  if (i >= s.length) return 'counters `[packets:bytes]` without `:`';
  const colon = s.indexOf(':', i);
  if (colon < 0) return 'counters `[packets:bytes]` without `:`';
  let j = colon + 1;
  while (j < s.length && s[j] === ']') j++;
  if (j >= s.length) return 'counters `[packets:bytes]` without the byte count';
  const end = s.indexOf(']', j);
  // strtok writes NULs at `colon` and `end`: past the `]`, they would cut the command short.
  if (colon > close || (end >= 0 && end > close)) return 'malformed counters: `[packets:bytes]` is expected';
  return close;
}

/** How many kernel rules iptables makes of a line: one per source address × destination address. */
function kernelRules(node: RuleNode): number {
  let n = 1;
  // Only -s/-d lists multiply (they come first among the conditions); an -m iprange condition has
  // one range, or none when reversed, and is one kernel rule either way.
  for (const c of node.meaning?.conditions ?? []) if ((c.field === 'src' || c.field === 'dst') && !c.negate) n *= Math.max(1, c.addrs.length);
  return n;
}

function kernelCount(rules: RuleNode[]): number {
  let n = 0;
  for (const r of rules) n += kernelRules(r);
  return n;
}

/**
 * The index in `rules` where kernel rule number k (0-based) starts, after splitting a multi-address
 * line in two places if k falls inside it; undefined past the end (k = count is the end itself).
 */
function kernelPosition(rules: RuleNode[], k: number): number | undefined {
  let acc = 0;
  for (let i = 0; i < rules.length; i++) {
    if (acc === k) return i;
    const n = kernelRules(rules[i]);
    if (k < acc + n) {
      rules.splice(i, 1, ...splitRule(rules[i]));
      return i + (k - acc);
    }
    acc += n;
  }
  return acc === k ? rules.length : undefined;
}

/** One node per kernel rule of a multi-address line, in iptables' order (sources outermost). */
function splitRule(node: RuleNode): RuleNode[] {
  const m = node.meaning!;
  const src = m.conditions.find((c) => c.field === 'src' && !c.negate);
  const dst = m.conditions.find((c) => c.field === 'dst' && !c.negate);
  const srcs = src && src.field === 'src' ? src.addrs : [undefined];
  const dsts = dst && dst.field === 'dst' ? dst.addrs : [undefined];
  const parts: RuleNode[] = [];
  for (const a of srcs) {
    for (const b of dsts) {
      const part = Object.create(node) as RuleNode;
      part.meaning = {
        ...m,
        key: undefined, // one address of the line's several: not what the line's text means
        conditions: m.conditions.map((c) => (c === src && a ? { ...c, addrs: [a] } : c === dst && b ? { ...c, addrs: [b] } : c)),
      };
      parts.push(part);
    }
  }
  return parts;
}

/** A chain's rules in order, with pending head insertions merged in. */
function rulesOf(t: TableState, chain: ChainNode): RuleNode[] {
  const head = t.heads.get(chain);
  if (head) {
    t.heads.delete(chain);
    head.reverse();
    chain.rules = head.concat(chain.rules);
  }
  return chain.rules;
}

/** Text identity of a rule for -D/-C by specification: the words after the chain name. */
function ruleKey(r: RuleNode): string {
  const toks = r.tokens;
  const chainAt = r.chainToken?.start;
  const from = toks.findIndex((t) => t.start === chainAt) + 1;
  let k = '';
  for (let i = from; i < toks.length; i++) k += `${toks[i].text}\u0000`;
  return k;
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

function lineLength(text: string, line: number): number {
  if (line < 0) return 0;
  let pos = 0;
  for (let l = 0; l < line; l++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return 0;
    pos = nl + 1;
  }
  const nl = text.indexOf('\n', pos);
  const end = nl < 0 ? text.length : nl;
  return end > pos && text.charCodeAt(end - 1) === 13 ? end - pos - 1 : end - pos;
}
