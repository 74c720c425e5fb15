// Reads the words of one command line (`-A INPUT -p tcp --dport 22 -j ACCEPT`) the way
// iptables 1.8 does (xshared.c do_parse on top of getopt_long):
// - words are processed left to right; options may come in any order (`-j ACCEPT -s 10.0.0.1`);
// - `!` negates the next option; `! !` and a trailing `!` are errors, and so is `-s ! x` (the
//   old intrapositioned form: `!` becomes the option's argument);
// - long options may be abbreviated when unambiguous (`--dpo 22`) and written `--name=value`;
//   short options may be clustered (`-fv`) and take an attached argument (`-ieth0`), except
//   that iptables 1.8.9 then reads -s, -d, -p and -j's value as the whole word (an error);
// - an option unknown to the loaded extensions loads the match named after the `-p` protocol
//   (so `-p tcp --dport 22` needs no `-m tcp`) and is looked up again;
// - extension options go to the most recently loaded extension that has them;
// - iptables stops at the first error of a line: so do we (one finding per bad line).
import type { Finding, FindingCode } from '../../model/finding';
import { finding } from '../../model/finding';
import type { Family } from '../../model/policy';
import { formatNetwork, readAddressList } from './addresses';
import { findMatch, findTarget, isStandardTargetName, STANDARD_TARGETS, type ExtSpec, type OptSpec } from './extensions';
import { BIT_C, builtinBit, BUILTIN_NAMES, COMMAND_LETTERS, LONG_BUILTIN_NAMES, LONG_BUILTINS, SHORT, type BuiltinOpt } from './builtin-options';
import type { Token } from './lexer';
import { parseProtocol, protocolName, strtoui, PROTO_DCCP, PROTO_SCTP, PROTO_TCP, PROTO_UDP, PROTO_UDPLITE } from './numbers';
import type { ChainCommandNode, MatchNode, OptionNode, OptionValue, RuleNode, TargetNode } from './tree';
import { lineRange, tokenRange } from './tree';
import { dict } from '../../model/dict';
import { ValueMemo, type ValueContext } from './values';
import { findOwned, OF_RULE, OF_TARGET, type MatchRecord, type OptionRecord, type RuleRecords, type TargetRecord } from './records';

/** What the command reader needs to know about its surroundings. */
export interface CommandContext {
  family: Family;
  table: string;
  line: number;
  lineText: string;
  findings: Finding[];
}

/** One loaded extension instance of the rule being read (reused from line to line). */
interface ExtInst extends MatchRecord {
  spec: ExtSpec;
  /** Where its options are recorded: its index among the matches, or OF_TARGET. */
  owner: number;
  /** A later `-m` of the same extension took over: options go to the newer one. */
  completed: boolean;
  isTarget: boolean;
  /** The extension type loaded before this one (see CommandReader.newestType). */
  olderType: ExtInst | undefined;
}

const NO_TOKENS: Token[] = [];

/** Handed to the value parsers, filled in for each option (they do not keep it). */
const VALUE_CONTEXT: ValueContext = { family: 4, protoName: undefined, option: '' };

/** A long option of iptables itself, with the full name it was found under. */
interface BuiltinHit { kind: 'builtin'; opt: BuiltinOpt; name: string }
/** What a long option word stands for: an option of iptables itself or of a loaded extension. */
type LongHit = BuiltinHit | OptSpec;

const BUILTIN_HITS = dict<BuiltinHit>({});
for (const name of LONG_BUILTIN_NAMES) BUILTIN_HITS[name] = { kind: 'builtin', opt: LONG_BUILTINS[name] as BuiltinOpt, name };

function isBuiltinHit(h: LongHit): h is BuiltinHit {
  return (h as Partial<BuiltinHit>).kind === 'builtin';
}

const MULTIPORT_PROTOS = [PROTO_TCP, PROTO_UDP, PROTO_UDPLITE, PROTO_SCTP, PROTO_DCCP];

class LineError extends Error {
  constructor(readonly code: FindingCode, message: string, readonly tok?: { start: number; end: number }) {
    super(message);
  }
}

/** What iptables' assert_valid_chain_name refuses in a chain name, or undefined. */
export function chainNameProblem(name: string): string | undefined {
  if (name.length >= 29) return `chain name \`${name}' is too long (at most 28 characters)`;
  if (name.startsWith('-') || name.startsWith('!')) return `chain name \`${name}' may not start with \`${name[0]}'`;
  if (hasWhitespace(name)) return `chain name \`${name}' contains whitespace`;
  return undefined;
}

/** `/\s/.test(s)`, without the regular expression for the usual plain ASCII name. */
function hasWhitespace(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 32 || (c >= 9 && c <= 13)) return true;
    if (c > 127) return /\s/.test(s);
  }
  return false;
}

/**
 * A command line as read, without a tree: what the file reader keeps of it and the records
 * lowering reads (valid until the next line is read).
 */
export interface ReadCommand extends RuleRecords {
  /** -A, -I, -R, -D, -C (else a chain command, see chainCommandNode). */
  readonly isRule: boolean;
  readonly failed: boolean;
  readonly skipped: boolean;
  readonly ruleNumber: number | undefined;
  readonly commandTok: Token | undefined;
  readonly chainTok: Token | undefined;
  readonly ruleNumTok: Token | undefined;
  ruleCommand(): RuleNode['command'];
  chainName(): string;
  chainCommandNode(): ChainCommandNode;
}

/**
 * Reads one command line (`tokens` are the words after an optional `[p:b]` counters prefix) and
 * gives its records; findings go to `ctx.findings`. Reading a rule builds no tree node.
 */
export function readCommand(tokens: Token[], ctx: CommandContext): ReadCommand {
  const reader = READER;
  reader.start(tokens, ctx);
  try {
    reader.run();
    reader.finish();
  } catch (e) {
    if (!(e instanceof LineError)) throw e;
    const tok = e.tok ?? { start: 0, end: ctx.lineText.length };
    ctx.findings.push(finding(e.code, e.message, tokenRange(ctx.line, tok)));
    reader.failed = true;
  }
  return reader;
}

/** Reads one command line into its tree node (the same reading as readCommand's). */
export function parseCommand(tokens: Token[], ctx: CommandContext, countersToken?: Token): RuleNode | ChainCommandNode {
  const read = readCommand(tokens, ctx);
  return read.isRule ? READER.ruleNode(countersToken) : read.chainCommandNode();
}

/** Reads the words of one line at a time; `start` readies it for the next line. */
class CommandReader implements ReadCommand {
  private tokens: Token[] = NO_TOKENS;
  private ctx: CommandContext = { family: 4, table: '', line: 0, lineText: '', findings: [] };
  line = 0;
  failed = false;
  skipped = false;
  private i = 0;
  private invert: Token | undefined;
  /** The command letter (A, I, N, …) and its word. */
  commandLetter: string | undefined;
  commandTok: Token | undefined;
  chainTok: Token | undefined;
  ruleNumTok: Token | undefined;
  ruleNumber: number | undefined;
  argTok: Token | undefined;
  /**
   * The options read so far, of the rule, its matches and its target: the first `optionCount`
   * of records kept from line to line (as are the matches' and the target's).
   */
  readonly options: OptionRecord[] = [];
  optionCount = 0;
  /** Letters of the rule options given so far (-s, -p, …, -c). */
  private seenBuiltin = 0;
  /** The matches loaded so far: the first `matchCount`. */
  readonly matches: ExtInst[] = [];
  matchCount = 0;
  /**
   * Extension types in option-table order, newest first (getopt sees the newest options first):
   * the first instance of each match type and the target, linked by `olderType`.
   */
  private newestType: ExtInst | undefined;
  /** The instance whose option lookupLong found last. */
  private foundInst: ExtInst | undefined;
  /** The target extension loaded by -j, if any. */
  private targetExt: ExtInst | undefined;
  private readonly targetInst: ExtInst = newExtInst();
  /** The -j/-g given, if any. */
  target: TargetRecord | undefined;
  private readonly targetRec: TargetRecord = { kind: 'jump', flag: NO_TOKEN, nameToken: NO_TOKEN, name: '', type: 'chain' };
  proto: number | undefined;
  protoName: string | undefined;
  protoNegated = false;
  private protoUsed = false;
  /** An -s/-d with several addresses: iptables then refuses `!` on either. */
  private addressList: OptionRecord | undefined;
  private verbose = false;

  start(tokens: Token[], ctx: CommandContext): void {
    this.tokens = tokens;
    this.ctx = ctx;
    this.line = ctx.line;
    this.failed = false;
    this.skipped = false;
    this.i = 0;
    this.invert = undefined;
    this.commandLetter = undefined;
    this.commandTok = undefined;
    this.chainTok = undefined;
    this.ruleNumTok = undefined;
    this.ruleNumber = undefined;
    this.argTok = undefined;
    this.optionCount = 0;
    this.seenBuiltin = 0;
    this.matchCount = 0;
    this.newestType = undefined;
    this.foundInst = undefined;
    this.targetExt = undefined;
    this.target = undefined;
    this.proto = undefined;
    this.protoName = undefined;
    this.protoNegated = false;
    this.protoUsed = false;
    this.addressList = undefined;
    this.verbose = false;
  }

  run(): void {
    const toks = this.tokens;
    while (this.i < toks.length && !this.skipped) {
      const tok = toks[this.i];
      const t = tok.text;
      if (t === '!') {
        if (this.invert) throw new LineError('syntax', 'two `!` in a row: negate an option once', tok);
        this.invert = tok;
        this.i++;
        continue;
      }
      if (t.length > 2 && t.charCodeAt(0) === 45 && t.charCodeAt(1) === 45) {
        this.i++;
        this.longOption(tok);
      } else if (t.length > 1 && t.charCodeAt(0) === 45) {
        this.i++;
        if (t === '--') {
          // getopt stops at `--`; iptables then refuses any remaining word.
          if (this.i < toks.length) throw new LineError('syntax', `unexpected \`${toks[this.i].text}' after \`--'`, toks[this.i]);
          continue;
        }
        this.shortOptions(tok);
      } else {
        const what = t === '' ? 'an empty word' : `\`${t}'`;
        throw new LineError('syntax', `unexpected ${what}: an option (such as -p, -s, -j) is expected here`, tok);
      }
    }
  }

  /** The next word as an option's argument (getopt takes it whatever it looks like). */
  private requiredArg(flag: Token): Token {
    if (this.i >= this.tokens.length) throw new LineError('syntax', `option ${flag.text.length === 2 || flag.text.startsWith('--') ? flag.text : `-${flag.text}`} needs an argument`, flag);
    return this.tokens[this.i++];
  }

  /** xs_has_arg: the next word if it does not look like an option. */
  private optionalNext(): Token | undefined {
    const n = this.tokens[this.i];
    if (n && n.text[0] !== '-' && n.text[0] !== '!') { this.i++; return n; }
    return undefined;
  }

  private longOption(tok: Token): void {
    const t = tok.text;
    const eq = t.indexOf('=');
    const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
    const flag: Token = eq < 0 ? tok : subToken(tok, 0, eq);
    const attached: Token | undefined = eq < 0 ? undefined : subToken(tok, eq + 1, t.length);
    for (let attempt = 0; ; attempt++) {
      const found = this.lookupLong(name, flag);
      if (found) {
        if (isBuiltinHit(found)) {
          const b = found.opt;
          if (b.arg === 0 && attached) throw new LineError('syntax', `option --${found.name} takes no argument`, tok);
          let arg: Token | undefined = attached;
          if (attached && 'sdpjio'.includes(b.letter)) this.wholeWordArg(tok, b.letter);
          if (b.arg === 1 && !arg) arg = this.requiredArg(flag);
          this.builtin(b.letter, flag, arg, b.arg === 2);
        } else {
          if (found.parser.nargs === 0 && attached) throw new LineError('syntax', `option --${found.name} takes no argument`, tok);
          this.extOption(this.foundInst as ExtInst, found, flag, attached);
        }
        return;
      }
      if (attempt === 0 && this.loadProto()) continue;
      break;
    }
    // An extension without an option table here: take `--name [args…]` as written.
    const unknown = this.latestUnknown();
    if (unknown) { this.unknownOption(unknown, flag, attached); return; }
    throw new LineError('syntax', this.unknownOptionMessage(`--${name}`), flag);
  }

  private unknownOptionMessage(opt: string): string {
    const hint = this.proto === undefined && /^--(dport|sport|destination-port|source-port|syn|tcp-flags|icmp-type|icmpv6-type)$/.test(opt)
      ? ` (it belongs to a protocol match: give -p first, e.g. -p tcp ${opt})` : '';
    return `unknown option ${opt}${hint}`;
  }

  private shortOptions(tok: Token): void {
    const t = tok.text;
    for (let k = 1; k < t.length; k++) {
      const c = t[k];
      const kind = SHORT[c];
      const flag = t.length === 2 ? tok : subToken(tok, k === 1 ? 0 : k, k + 1);
      if (kind === undefined || c === 'b') throw new LineError('syntax', `unknown option -${c}`, flag);
      const rest = k + 1 < t.length ? subToken(tok, k + 1, t.length) : undefined;
      if (kind === 1) {
        if (rest && 'sdpj'.includes(c)) this.wholeWordArg(tok, c);
        const arg = rest ?? this.requiredArg(flag);
        this.builtin(c, flag, arg, false);
        return;
      }
      if (kind === 2) {
        this.builtin(c, flag, rest, true);
        return;
      }
      this.builtin(c, flag, undefined, false);
      if (this.skipped) return;
    }
  }

  /**
   * iptables 1.8.9 takes the value of -s, -d, -p and -j (and of --in-interface= and
   * --out-interface=) from the whole word when it is attached (`-s10.0.0.1` is the address
   * `-s10.0.0.1`), so these never work; -i and -o attached to the short option do.
   */
  private wholeWordArg(tok: Token, letter: string): never {
    const name = BUILTIN_NAMES[letter] ?? 'jump';
    throw new LineError(letter === 'j' ? 'syntax' : 'invalid-value', `iptables reads \`${tok.text}' whole as the value of --${name}: write the option and its value as two words`, tok);
  }

  /** The option a long name (or a unique abbreviation of one) stands for; for an extension's, `foundInst` says whose. */
  private lookupLong(name: string, flag: Token): LongHit | undefined {
    const b = BUILTIN_HITS[name];
    if (b) return b;
    for (let inst = this.newestType; inst; inst = inst.olderType) {
      const o = inst.spec.options.get(name);
      if (o) { this.foundInst = this.latestOf(inst); return o; }
    }
    if (name === '') return undefined;
    // getopt_long: a unique abbreviation (aliases of one option count once).
    let hit: LongHit | undefined;
    let hitInst: ExtInst | undefined;
    let hitKey = '';
    const consider = (key: string, h: LongHit, inst: ExtInst | undefined): void => {
      if (hit && hitKey !== key) throw new LineError('syntax', `option --${name} is ambiguous`, flag);
      hit = h;
      hitInst = inst;
      hitKey = key;
    };
    for (const n of LONG_BUILTIN_NAMES) {
      const h = BUILTIN_HITS[n] as BuiltinHit;
      if (n.startsWith(name)) consider(`b:${h.opt.letter}`, h, undefined);
    }
    for (let inst = this.newestType; inst; inst = inst.olderType) {
      for (const n of inst.spec.names) {
        if (n.startsWith(name)) {
          const o = inst.spec.options.get(n) as OptSpec;
          consider(`${inst.isTarget ? 't' : 'm'}:${inst.spec.name}:${o.id}`, o, this.latestOf(inst));
        }
      }
    }
    this.foundInst = hitInst;
    return hit;
  }

  /** The newest instance of an extension type (options of a type go to it). */
  private latestOf(inst: ExtInst): ExtInst {
    if (inst.isTarget) return inst;
    for (let k = this.matchCount - 1; k >= 0; k--) if (this.matches[k].spec === inst.spec) return this.matches[k];
    return inst;
  }

  private latestUnknown(): ExtInst | undefined {
    if (this.targetExt?.unknown) return this.targetExt;
    for (let k = this.matchCount - 1; k >= 0; k--) if (this.matches[k].unknown) return this.matches[k];
    return undefined;
  }

  /** load_proto(): load the match named after the -p protocol, once per rule. */
  private loadProto(): boolean {
    if (this.protoName === undefined || this.protoUsed) return false;
    const found = findMatch(this.protoName, this.ctx.family);
    if (!found || found.unknown) return false;
    this.protoUsed = true;
    this.addMatch(found.spec, false, undefined, undefined);
    return true;
  }

  private addMatch(spec: ExtSpec, unknown: boolean, flag: Token | undefined, nameTok: Token | undefined): void {
    const ms = this.matches;
    for (let k = 0; k < this.matchCount; k++) if (ms[k].spec === spec) ms[k].completed = true;
    if (this.matchCount === ms.length) ms.push(newExtInst());
    const inst = ms[this.matchCount];
    setExtInst(inst, spec, unknown, this.matchCount);
    inst.flag = flag;
    inst.nameToken = nameTok;
    inst.implicit = flag === undefined;
    this.matchCount++;
    let known = false;
    for (let t = this.newestType; t; t = t.olderType) if (!t.isTarget && t.spec === spec) { known = true; break; }
    if (!known) this.addType(inst);
  }

  private addType(inst: ExtInst): void {
    inst.olderType = this.newestType;
    this.newestType = inst;
  }

  private builtin(letter: string, flag: Token, arg: Token | undefined, optionalArg: boolean): void {
    const inv = this.invert;
    this.invert = undefined;
    if (COMMAND_LETTERS.includes(letter)) { this.commandOption(letter, flag, arg, optionalArg, inv); return; }
    switch (letter) {
      case 's': case 'd': case 'p': case 'i': case 'o': case 'f':
        this.ruleOption(letter, flag, arg, inv);
        return;
      case 'j': case 'g':
        this.jump(letter, flag, arg as Token, inv);
        return;
      case 'm':
        this.match(flag, arg as Token, inv);
        return;
      case 'v':
        if (inv && !this.verbose) throw new LineError('syntax', 'cannot have ! before -v', inv);
        this.verbose = true;
        return;
      case 'M':
        return;
      case 'c':
        this.counters(flag, arg as Token, inv);
        return;
      case '4': case '6': {
        if (inv) throw new LineError('syntax', `cannot have ! before -${letter}`, inv);
        const fam = letter === '4' ? 4 : 6;
        // iptables-restore silently skips lines meant for the other family.
        if (fam !== this.ctx.family) this.skipped = true;
        return;
      }
      case 't':
        throw new LineError('syntax', 'the -t option cannot be used in an iptables-restore file: the table is given by the `*table` line', flag);
      case 'w': case 'W':
        throw new LineError('syntax', `-${letter} cannot be used in an iptables-restore file`, flag);
      case 'n': case 'x': case '0':
        throw new LineError('syntax', `option ${flag.text} is only for listing rules`, flag);
      case 'h': case 'V':
        throw new LineError('syntax', `${flag.text} makes iptables-restore print ${letter === 'h' ? 'help' : 'its version'} and stop: the rest of the file would not be loaded`, flag);
      default:
        throw new LineError('syntax', `unknown option ${flag.text}`, flag);
    }
  }

  private commandOption(letter: string, flag: Token, arg: Token | undefined, optionalArg: boolean, inv: Token | undefined): void {
    if (inv) throw new LineError('syntax', `unexpected \`!' before ${flag.text}`, inv);
    if (this.commandLetter) throw new LineError('syntax', `cannot use -${letter} with -${this.commandLetter}: one command per line`, flag);
    this.commandLetter = letter;
    this.commandTok = flag;
    let chain = arg;
    if (optionalArg && !chain) chain = this.optionalNext();
    this.chainTok = chain;
    switch (letter) {
      case 'I': case 'D': case 'R': case 'L': case 'S': case 'Z': {
        const next = (letter !== 'L' && letter !== 'S' && letter !== 'Z') || chain ? this.optionalNext() : undefined;
        if (next) {
          const n = strtoui(next.text, 2147483647, 1);
          if (n === undefined) throw new LineError('invalid-value', `invalid rule number \`${next.text}': rule numbers start at 1`, next);
          this.ruleNumTok = next;
          this.ruleNumber = n;
        } else if (letter === 'R') {
          throw new LineError('syntax', '-R needs a chain and a rule number', flag);
        }
        break;
      }
      case 'N': {
        const p = chainNameProblem((chain as Token).text);
        if (p) throw new LineError('syntax', p, chain);
        if (isStandardTargetName((chain as Token).text) || findTarget((chain as Token).text, this.ctx.family)) {
          throw new LineError('syntax', `chain name \`${(chain as Token).text}' clashes with a target name`, chain);
        }
        break;
      }
      case 'E': {
        const to = this.optionalNext();
        if (!to) throw new LineError('syntax', '-E needs the old and the new chain name', flag);
        const p = chainNameProblem(to.text);
        if (p) throw new LineError('syntax', p, to);
        this.argTok = to;
        break;
      }
      case 'P': {
        const pol = this.optionalNext();
        if (!pol) throw new LineError('syntax', '-P needs a chain and a policy', flag);
        this.argTok = pol;
        break;
      }
    }
  }

  private ruleOption(letter: string, flag: Token, arg: Token | undefined, inv: Token | undefined): void {
    const name = BUILTIN_NAMES[letter] as string;
    const bit = builtinBit(letter);
    if (this.seenBuiltin & bit) throw new LineError('syntax', `-${letter} (--${name}) may be given only once per rule`, flag);
    this.seenBuiltin |= bit;
    const opt = this.record(OF_RULE, name, flag, inv);
    if (arg) opt.args[opt.argc++] = arg;
    const a = arg as Token;
    switch (letter) {
      case 's': case 'd': {
        const addrs = readAddressList(a.text, this.ctx.family);
        if (!Array.isArray(addrs)) {
          const e = addrs;
          throw new LineError('invalid-value', e.message, a.quoted ? a : { start: a.start + e.start, end: a.start + e.end });
        }
        if (addrs.length > 1) this.addressList = opt;
        if (inv && addrs.some((el) => el.prefix === 0)) {
          throw new LineError('invalid-value', `\`! ${flag.text} ${a.text}' never matches anything (a /0 mask is every address), and iptables-restore (nf_tables) refuses it`, a);
        }
        for (let k = 0; k < addrs.length; k++) {
          const el = addrs[k];
          const r = a.quoted ? a : { start: a.start + el.start, end: a.start + el.end };
          if (el.hostname !== undefined) {
            this.ctx.findings.push(finding('invalid-value', `\`${el.hostname}' is a host name: iptables-restore resolves it through DNS when the rules are loaded, Firewall Lens does not (the rule is treated as matching an unknown address)`, tokenRange(this.ctx.line, r), { severity: 'warning' }));
          } else if (el.hostBits) {
            const network = formatNetwork(el);
            this.ctx.findings.push(finding('cidr-host-bits', `${a.text.slice(el.start, el.end)} has bits set past its mask: iptables uses the network ${network}`, tokenRange(this.ctx.line, r), { data: { network } }));
          }
        }
        opt.value = { kind: 'addrs', addrs };
        return;
      }
      case 'p': {
        const lowered = a.text.toLowerCase();
        const p = parseProtocol(lowered);
        if (p === undefined) throw new LineError('invalid-value', `unknown protocol \`${a.text}': a name (tcp, udp, icmp, …) or a number 0-255 is expected`, a);
        if (p === 0 && inv) throw new LineError('invalid-value', '`! -p all` never matches anything', a);
        this.proto = p;
        this.protoNegated = !!inv;
        this.protoName = strtouiLike(lowered) ? protocolName(p) : lowered;
        opt.value = protoValue(p);
        if (this.ctx.family === 6 && !inv && (p === 0 ? false : [43, 44, 51, 60].includes(p))) {
          this.ctx.findings.push(finding('invalid-value', `-p ${a.text} never matches in ip6tables: it is an IPv6 extension header, not an upper-layer protocol (use an extension match)`, tokenRange(this.ctx.line, a), { severity: 'warning' }));
        }
        return;
      }
      case 'i': case 'o': {
        if (a.text === '') throw new LineError('invalid-value', 'empty interface name', a);
        if (a.text.length >= 16) throw new LineError('invalid-value', `interface name \`${a.text}' is too long (at most 15 characters)`, a);
        opt.value = { kind: 'iface', name: a.text };
        return;
      }
      case 'f':
        if (this.ctx.family === 6) throw new LineError('syntax', '-f does not exist in ip6tables (use -m frag)', flag);
        opt.value = { kind: 'flag' };
        return;
    }
  }

  private jump(letter: string, flag: Token, arg: Token, inv: Token | undefined): void {
    if (this.target) throw new LineError('syntax', 'a rule has one target: -j or -g given twice', flag);
    if (inv) throw new LineError('syntax', `cannot have ! before ${flag.text}`, inv);
    const name = arg.text;
    if (name.length === 0) throw new LineError('syntax', 'empty target name', arg);
    if (name.length >= 29) throw new LineError('syntax', `target name \`${name}' is too long (at most 28 characters)`, arg);
    if (hasWhitespace(name)) throw new LineError('syntax', `invalid target name \`${name}'`, arg);
    const node = this.targetRec;
    node.kind = letter === 'g' ? 'goto' : 'jump';
    node.flag = flag;
    node.nameToken = arg;
    node.name = name;
    node.type = 'chain';
    this.target = node;
    if (STANDARD_TARGETS.has(name)) { node.type = 'standard'; return; }
    const found = findTarget(name, this.ctx.family);
    if (!found) return;
    node.type = 'extension';
    // -g takes a chain name as it is: no target extension is loaded (the caller refuses it).
    if (letter === 'g') return;
    const inst = this.targetInst;
    setExtInst(inst, found.spec, found.unknown, OF_TARGET);
    inst.isTarget = true;
    inst.nameToken = arg;
    this.targetExt = inst;
    this.addType(inst);
  }

  private match(flag: Token, arg: Token, inv: Token | undefined): void {
    if (inv) throw new LineError('syntax', 'unexpected `!` before -m: negate the match\'s options instead', inv);
    const found = findMatch(arg.text, this.ctx.family);
    if (!found && !/^[A-Za-z][A-Za-z0-9_]*$/.test(arg.text)) {
      throw new LineError('syntax', `\`${arg.text}' is not a match extension name (-m takes a name such as tcp, conntrack, comment)`, arg);
    }
    const other: Family = this.ctx.family === 4 ? 6 : 4;
    if (!found && findMatch(arg.text, other)) {
      throw new LineError('syntax', `the ${arg.text} match exists only in ${other === 6 ? 'ip6tables' : 'iptables'} (IPv${other})`, arg);
    }
    if (!found) {
      this.ctx.findings.push(finding('unsupported', `match extension \`${arg.text}' is unknown to Firewall Lens (and to iptables 1.8.9 without add-ons): the analysis treats the rule as possibly matching or not`, tokenRange(this.ctx.line, arg)));
      const spec: ExtSpec = { name: arg.text, options: new Map(), names: [] };
      this.addMatch(spec, true, flag, arg);
      return;
    }
    if (found.unknown) {
      this.ctx.findings.push(finding('unsupported', `match \`${arg.text}' is not modeled: the analysis treats the rule as possibly matching or not`, tokenRange(this.ctx.line, arg)));
    }
    this.addMatch(found.spec, found.unknown, flag, arg);
  }

  private counters(flag: Token, arg: Token, inv: Token | undefined): void {
    if (inv) throw new LineError('syntax', 'cannot have ! before -c', inv);
    if (this.seenBuiltin & BIT_C) throw new LineError('syntax', '-c may be given only once', flag);
    this.seenBuiltin |= BIT_C;
    let pc = arg.text;
    let bc: string | undefined;
    const comma = pc.indexOf(',');
    if (comma >= 0) { bc = pc.slice(comma + 1); pc = pc.slice(0, comma); }
    if (bc === undefined) bc = this.optionalNext()?.text;
    if (bc === undefined) throw new LineError('syntax', '-c needs a packet and a byte counter', flag);
    const num = /^[ \t]*[+-]?[0-9]/;
    if (!num.test(pc) || !num.test(bc)) throw new LineError('invalid-value', '-c counters must be numbers', arg);
  }

  private extOption(inst: ExtInst, opt: OptSpec, flag: Token, attached: Token | undefined): void {
    const inv = this.invert;
    this.invert = undefined;
    const owner = inst.spec.name;
    if (inst.optionCount > 0 && findOwned(this, inst.owner, opt.id)) throw new LineError('syntax', `${owner}: option --${opt.id} may be given only once`, flag);
    if (inv && !opt.invert) throw new LineError('syntax', `${owner}: option --${opt.name} cannot be negated with !`, inv);
    const nargs = opt.parser.nargs;
    // The words are taken before the option is recorded: a missing one fails the line first.
    const first = nargs >= 1 ? attached ?? this.requiredArg(flag) : undefined;
    let second: Token | undefined;
    if (nargs === 2) {
      const n = this.tokens[this.i];
      if (!n || n.text[0] === '-' || n.text[0] === '!') throw new LineError('syntax', `--${opt.name} needs two arguments`, flag);
      second = n;
      this.i++;
    }
    const node = this.record(inst.owner, opt.id, flag, inv);
    inst.optionCount++;
    if (first) node.args[node.argc++] = first;
    if (second) node.args[node.argc++] = second;
    const parse = opt.parser.parse;
    if (parse) {
      const vctx = VALUE_CONTEXT;
      vctx.family = this.ctx.family;
      vctx.protoName = this.protoName;
      vctx.option = opt.name;
      const r = nargs === 1 ? (opt.memo ??= new ValueMemo(opt.parser)).parse((first as Token).text, vctx) : parse((first as Token).text, vctx, (second as Token).text);
      const where = first ? spanOf(node) : flag;
      if (r.error) throw new LineError('invalid-value', `${owner}: ${r.error}`, where);
      if (r.warning) this.ctx.findings.push(finding('invalid-value', `${owner}: ${r.warning}`, tokenRange(this.ctx.line, where), { severity: 'warning' }));
      node.value = r.value;
    }
  }

  /** An option of an extension without a table: the option and the words after it up to the next option. */
  private unknownOption(inst: ExtInst, flag: Token, attached: Token | undefined): void {
    const inv = this.invert;
    this.invert = undefined;
    const node = this.record(inst.owner, flag.text.replace(/^--/, ''), flag, inv);
    inst.optionCount++;
    if (attached) node.args[node.argc++] = attached;
    while (this.i < this.tokens.length) {
      const n = this.tokens[this.i].text;
      if (n[0] === '-' || n === '!') break;
      node.args[node.argc++] = this.tokens[this.i++];
    }
  }

  /** A new record of an option of `owner` (the next of the line's). */
  private record(owner: number, name: string, flag: Token, not: Token | undefined): OptionRecord {
    if (this.optionCount === this.options.length) this.options.push({ owner, name, flag, not, args: [], argc: 0, value: undefined });
    const r = this.options[this.optionCount++];
    r.owner = owner;
    r.name = name;
    r.flag = flag;
    r.not = not;
    r.argc = 0;
    r.value = undefined;
    return r;
  }

  /** The checks iptables makes after reading all words. */
  finish(): void {
    if (this.skipped) return;
    if (this.invert) throw new LineError('syntax', '`!` at the end of the line: nothing follows it', this.invert);
    for (let k = 0; k < this.matchCount; k++) this.finalCheck(this.matches[k]);
    if (this.targetExt) this.finalCheck(this.targetExt);
    const letter = this.commandLetter;
    if (letter === undefined) throw new LineError('syntax', 'no command: a rule line starts with -A CHAIN (or -I, -N, -P, …)', this.tokens[0] ?? { start: 0, end: this.ctx.lineText.length });
    const ruleCmd = 'AIDRC'.includes(letter);
    const firstRuleOption = findOwned(this, OF_RULE);
    if (!ruleCmd) {
      if (firstRuleOption) throw new LineError('syntax', `${firstRuleOption.flag.text} cannot be used with -${letter}`, firstRuleOption.flag);
      if (this.target) throw new LineError('syntax', `${this.target.flag.text} cannot be used with -${letter}`, this.target.flag);
      if ((this.seenBuiltin & BIT_C) && letter !== 'P') throw new LineError('syntax', `-c cannot be used with -${letter}`, this.commandTok);
    } else if ((this.seenBuiltin & BIT_C) && (letter === 'D' || letter === 'C')) {
      throw new LineError('syntax', `-c cannot be used with -${letter}`, this.commandTok);
    }
    if (letter === 'D' && this.ruleNumber !== undefined && (firstRuleOption || this.target || this.matchCount > 0)) {
      throw new LineError('syntax', '-D with a rule number takes no rule options', this.commandTok);
    }
    const chain = this.chainTok?.text;
    if (chain !== undefined && chain.length >= 29) throw new LineError('syntax', `chain name \`${chain}' is too long (at most 28 characters)`, this.chainTok);
    if (ruleCmd && chain !== undefined) {
      const out = findOwned(this, OF_RULE, 'out-interface');
      const inn = findOwned(this, OF_RULE, 'in-interface');
      if (out && (chain === 'INPUT' || chain === 'PREROUTING')) throw new LineError('syntax', `-o cannot be used in ${chain}: incoming packets have no output interface yet`, out.flag);
      if (inn && (chain === 'OUTPUT' || chain === 'POSTROUTING')) throw new LineError('syntax', `-i cannot be used in ${chain}: locally generated packets have no input interface`, inn.flag);
    }
    if (ruleCmd && this.addressList) {
      const negated = this.negatedAddress();
      if (negated) throw new LineError('syntax', `\`!\` cannot be used on -s or -d when ${this.addressList.flag.text} lists several addresses (iptables expands the list into one rule per address)`, negated.not);
    }
    if (ruleCmd) this.protocolChecks();
    const t = this.target;
    if (ruleCmd && t) {
      if (this.ctx.table === 'nat' && t.name === 'DROP') throw new LineError('syntax', 'DROP cannot be used in the nat table: it is not for filtering', t.nameToken);
      const tables = this.targetExt?.spec.tables;
      if (tables && !tables.includes(this.ctx.table)) {
        throw new LineError('syntax', `${t.name} can only be used in the ${tables.join(' or ')} table`, t.nameToken);
      }
      const natPorts = this.targetExt?.optionCount ? this.natPortOption() : undefined;
      if (natPorts && (this.proto === undefined || this.protoNegated || ![PROTO_TCP, PROTO_UDP, PROTO_SCTP, PROTO_DCCP].includes(this.proto))) {
        throw new LineError('syntax', `${t.name} with a port needs -p tcp, udp, sctp or dccp`, natPorts.args[0]);
      }
      if (t.name === 'REJECT') {
        const w = findOwned(this, OF_TARGET, 'reject-with');
        if (w?.value?.kind === 'text' && w.value.text === 'tcp-reset' && (this.proto !== PROTO_TCP || this.protoNegated)) {
          throw new LineError('invalid-value', 'REJECT --reject-with tcp-reset needs -p tcp', w.args[0]);
        }
      }
    }
  }

  /** The first negated -s or -d. */
  private negatedAddress(): OptionRecord | undefined {
    for (let k = 0; k < this.optionCount; k++) {
      const o = this.options[k];
      if (o.owner === OF_RULE && (o.name === 'source' || o.name === 'destination') && o.not) return o;
    }
    return undefined;
  }

  /** The target's first address option that names a port (DNAT/SNAT/…). */
  private natPortOption(): OptionRecord | undefined {
    for (let k = 0; k < this.optionCount; k++) {
      const o = this.options[k];
      if (o.owner === OF_TARGET && isNatPortOption(o)) return o;
    }
    return undefined;
  }

  private finalCheck(inst: ExtInst): void {
    const spec = inst.spec;
    const name = spec.name;
    const owner = inst.owner;
    const where = inst.nameToken ?? findOwned(this, owner)?.flag;
    // The options given, by canonical name (extOption records each after its option's id).
    const mandatory = spec.mandatory;
    if (mandatory) {
      for (let k = 0; k < mandatory.length; k++) {
        if (!findOwned(this, owner, mandatory[k])) throw new LineError('syntax', `${name}: option --${mandatory[k]} must be given`, where);
      }
    }
    if (spec.oneOf) {
      const ids = spec.oneOf.ids;
      let any = false;
      for (let k = 0; k < ids.length && !any; k++) any = findOwned(this, owner, ids[k]) !== undefined;
      if (!any) throw new LineError('syntax', spec.oneOf.message, where);
    }
    if (spec.exclusive && inst.optionCount > 1) {
      for (const group of spec.exclusive) {
        const both = group.filter((id) => findOwned(this, owner, id));
        if (both.length > 1) {
          const o = findOwned(this, owner, both[1]);
          throw new LineError('syntax', `${name}: --${both[0]} and --${both[1]} cannot be used together`, o?.flag ?? where);
        }
      }
    }
    if (spec.needs) {
      for (const opt in spec.needs) {
        const needed = spec.needs[opt] as string;
        if (findOwned(this, owner, opt) && !findOwned(this, owner, needed)) throw new LineError('syntax', `${name}: --${opt} also needs --${needed}`, where);
      }
    }
  }

  /** Matches that only work for some protocols (the kernel or iptables-nft refuse them otherwise). */
  private protocolChecks(): void {
    for (let k = 0; k < this.matchCount; k++) {
      const m = this.matches[k];
      const where = m.nameToken ?? findOwned(this, k)?.flag;
      if (m.spec.name === 'multiport') {
        const okProtos = MULTIPORT_PROTOS;
        if (this.proto === undefined || this.proto === 0) throw new LineError('syntax', 'multiport needs -p tcp, udp, udplite, sctp or dccp', where);
        if (this.protoNegated || !okProtos.includes(this.proto)) throw new LineError('syntax', 'multiport only works with tcp, udp, udplite, sctp and dccp', where);
        continue;
      }
      const protos = m.spec.protos;
      if (!protos) continue;
      const pname = m.spec.name === 'icmp6' ? 'icmpv6' : m.spec.name;
      if (this.proto === undefined || this.proto === 0 || !protos.includes(this.proto)) {
        throw new LineError('syntax', `the ${m.spec.name} match needs -p ${pname}`, where);
      }
      if (this.protoNegated) {
        const withOptions = (m.spec.name === 'tcp' || m.spec.name === 'udp') && m.optionCount > 0;
        if (!withOptions) throw new LineError('syntax', `the ${m.spec.name} match needs -p ${pname}, not ! -p ${pname}`, where);
        this.ctx.findings.push(finding('invalid-value', `! -p ${pname} with ${m.spec.name} options never matches`, tokenRange(this.ctx.line, where ?? { start: 0, end: 0 }), { severity: 'warning' }));
      }
    }
    const chain = this.chainTok?.text;
    if (chain === 'INPUT' || chain === 'FORWARD' || chain === 'PREROUTING') {
      for (let k = 0; k < this.matchCount; k++) {
        const m = this.matches[k];
        if (m.spec.name === 'owner') throw new LineError('syntax', `the owner match only works in OUTPUT and POSTROUTING, not in ${chain}`, m.nameToken);
      }
    }
  }

  get isRule(): boolean {
    return 'AIDRC'.includes(this.commandLetter ?? 'A');
  }

  ruleCommand(): RuleNode['command'] {
    return (this.commandLetter ?? 'A') as RuleNode['command'];
  }

  chainName(): string {
    return this.chainTok?.text ?? '';
  }

  /** The tree of the rule just read (copies of its records). */
  ruleNode(countersToken: Token | undefined): RuleNode {
    const { line, lineText } = this.ctx;
    const matches: MatchNode[] = [];
    for (let k = 0; k < this.matchCount; k++) matches.push(this.matchNode(this.matches[k], k));
    // Every field at once (absent ones undefined): adding fields later costs an allocation per rule.
    return {
      kind: 'rule',
      line,
      range: lineRange(line, 0, lineText.length),
      text: lineText,
      tokens: this.tokens,
      ok: !this.failed,
      skipped: this.skipped ? true : undefined,
      command: this.ruleCommand(),
      commandToken: this.commandTok,
      chain: this.chainName(),
      chainToken: this.chainTok,
      ruleNumber: this.ruleNumber,
      ruleNumberToken: this.ruleNumTok,
      countersToken,
      options: this.optionNodes(OF_RULE),
      matches,
      target: this.target && { ...this.target, options: this.optionNodes(OF_TARGET) },
    };
  }

  private matchNode(m: ExtInst, index: number): MatchNode {
    return { module: m.module, flag: m.flag, nameToken: m.nameToken, implicit: m.implicit, options: this.optionNodes(index), opaque: m.opaque, unknown: m.unknown };
  }

  /** Nodes of the options of `owner`, in the order read. */
  private optionNodes(owner: number): OptionNode[] {
    const out: OptionNode[] = [];
    for (let k = 0; k < this.optionCount; k++) {
      const o = this.options[k];
      if (o.owner === owner) out.push({ name: o.name, flag: o.flag, not: o.not, args: o.args.slice(0, o.argc), value: o.value });
    }
    return out;
  }

  chainCommandNode(): ChainCommandNode {
    const { line, lineText } = this.ctx;
    const range = lineRange(line, 0, lineText.length);
    const node: ChainCommandNode = { kind: 'chain-command', line, range, text: lineText, tokens: this.tokens, ok: !this.failed, command: this.commandLetter as ChainCommandNode['command'] };
    if (this.commandTok) node.commandToken = this.commandTok;
    if (this.chainTok) { node.chainToken = this.chainTok; node.chain = this.chainTok.text; }
    if (this.argTok) node.argToken = this.argTok;
    if (this.skipped) node.skipped = true;
    return node;
  }
}

/** Protocol values by number, made once (values are never modified). */
const PROTO_VALUES: OptionValue[] = [];
function protoValue(p: number): OptionValue {
  return (PROTO_VALUES[p] ??= { kind: 'proto', proto: p });
}

const NO_TOKEN: Token = { text: '', start: 0, end: 0, quoted: false };
const NO_SPEC: ExtSpec = { name: '', options: new Map(), names: [] };

function newExtInst(): ExtInst {
  return {
    module: '', flag: undefined, nameToken: undefined, implicit: false, opaque: false, unknown: false, optionCount: 0,
    spec: NO_SPEC, owner: 0, completed: false, isTarget: false, olderType: undefined,
  };
}

/** Readies a kept instance for a newly loaded extension. */
function setExtInst(inst: ExtInst, spec: ExtSpec, unknown: boolean, owner: number): void {
  inst.module = spec.name;
  inst.flag = undefined;
  inst.nameToken = undefined;
  inst.implicit = false;
  inst.opaque = !spec.modeled;
  inst.unknown = unknown;
  inst.optionCount = 0;
  inst.spec = spec;
  inst.owner = owner;
  inst.completed = false;
  inst.isTarget = false;
  inst.olderType = undefined;
}

/** A NAT target's address option that names a port. */
function isNatPortOption(o: OptionRecord): boolean {
  return (o.name === 'to-destination' || o.name === 'to-source' || o.name === 'to-ports') && o.value?.kind === 'text' && o.value.text === 'ports';
}

/**
 * One reader for every line: a new one per line was a good part of the garbage of a large file.
 * (Reading a line never starts reading another, so one is enough.)
 */
const READER = new CommandReader();

/** A piece of a word (`--dport=22` → `22`); quoted words keep their whole span. */
function subToken(tok: Token, from: number, to: number): Token {
  if (tok.quoted) return { text: tok.text.slice(from, to), start: tok.start, end: tok.end, quoted: true };
  return { text: tok.text.slice(from, to), start: tok.start + from, end: tok.start + to, quoted: false };
}

/** The words of an option with arguments as one span. */
function spanOf(o: OptionRecord): Token {
  const args = o.args;
  if (o.argc === 1) return args[0];
  let text = args[0].text;
  for (let k = 1; k < o.argc; k++) text += ` ${args[k].text}`;
  return { text, start: args[0].start, end: args[o.argc - 1].end, quoted: false };
}

function strtouiLike(s: string): boolean {
  const c = s.charCodeAt(0);
  return (c >= 48 && c <= 57) || c === 43 || c === 32 || c === 9;
}
