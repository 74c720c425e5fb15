// The nftables tokenizer. It follows nft's flex scanner (src/scanner.l) closely, because what
// is one token there decides what parses: `eth-1`, `10m`, `mbytes/second` and `1.2.3.4` are
// single strings, `22-80` is three tokens, a newline separates statements while a comment-only
// line produces no newline at all (nft's behaviour, which matters inside `{ ... }` sets where at
// most one newline may stand between elements). Hand-written and linear: every character is
// looked at a bounded number of times.

import { GLOBAL_KEYWORDS } from './keywords';

/** Header fields and values common in rules, besides the global keywords. */
const FIELD_WORDS = [
  'saddr', 'daddr', 'sport', 'dport', 'protocol', 'nexthdr', 'l4proto', 'nfproto', 'state', 'established', 'related', 'new',
  'invalid', 'filter', 'nat', 'input', 'output', 'forward', 'prerouting', 'postrouting', 'with', 'to',
];

export type TokKind =
  | 'word' // nft STRING made of letters, digits, '_', '.', '/', '-' (keywords are words too)
  | 'num' // decimal or 0x hexadecimal
  | 'addr4' // dotted quad
  | 'addr6' // IPv6 address (also the [addr] form, without brackets in `text`)
  | 'mac' // aa:bb:cc:dd:ee:ff
  | 'time' // 1h30m, 10s, 100ms
  | 'classid' // 1:2 (hex:hex)
  | 'quoted' // "..." (text is the content without quotes)
  | 'star' // a string with an asterisk: eth*
  | 'punct'
  | 'nl'
  | 'eof'
  | 'junk';

/**
 * A token. Positions are offsets; lines and columns come from the source's line table
 * (Cursor.position), which keeps tokens small: a 10k-rule file has some 150k of them.
 */
export interface Token {
  kind: TokKind;
  /** Token text; for quoted strings the content between the quotes. */
  text: string;
  /** Offsets in the source text (end exclusive). */
  pos: number;
  end: number;
  /** Index of the source (0 = the main file, others are included files). */
  src: number;
}

/** Kinds nft's scanner returns as STRING: usable wherever a plain identifier or value is. */
export function isStringKind(k: TokKind): boolean {
  return k === 'word' || k === 'addr4' || k === 'addr6' || k === 'mac' || k === 'time' || k === 'classid';
}

export interface LexProblem { message: string; line: number; col: number; endCol: number }

export interface LexResult {
  tokens: Token[];
  problems: LexProblem[];
  /** Offset of the first character of each line. */
  lineStarts: number[];
}

const enum C {
  TAB = 9, NL = 10, CR = 13, SPACE = 32, BANG = 33, QUOTE = 34, HASH = 35, DOLLAR = 36, AMP = 38,
  LPAREN = 40, RPAREN = 41, STAR = 42, PLUS = 43, COMMA = 44, DASH = 45, DOT = 46, SLASH = 47,
  D0 = 48, D9 = 57, COLON = 58, SEMI = 59, LT = 60, EQ = 61, GT = 62, AT = 64, LBRACK = 91,
  BACKSLASH = 92, RBRACK = 93, CARET = 94, UNDERSCORE = 95, LBRACE = 123, PIPE = 124, RBRACE = 125,
}

function isDigit(c: number): boolean {
  return c >= C.D0 && c <= C.D9;
}
function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
/** Characters that may continue an nft string (not start it). */
function isStringChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === C.SLASH || c === C.DASH || c === C.UNDERSCORE || c === C.DOT;
}

/**
 * Words of the grammar as one internalized string each, by length and first character: a
 * keyword token then costs no string of its own, and the parser's comparisons with literals
 * are pointer compares.
 */
const KNOWN_WORDS = new Map<number, string[]>();
for (const w of [...GLOBAL_KEYWORDS, ...FIELD_WORDS]) {
  const key = w.length * 128 + w.charCodeAt(0);
  const list = KNOWN_WORDS.get(key) ?? [];
  // A property name is internalized; the words of GLOBAL_KEYWORDS come from a split and are not.
  list.push(Object.keys({ [w]: 0 })[0]);
  KNOWN_WORDS.set(key, list);
}

/** The known word at text[i, j), if it is one. */
function knownWord(text: string, i: number, j: number): string | undefined {
  const list = KNOWN_WORDS.get((j - i) * 128 + text.charCodeAt(i));
  if (list === undefined) return undefined;
  for (const w of list) if (text.startsWith(w, i)) return w;
  return undefined;
}

/** Two-character operators by their first and second character. */
const TWO_CHAR_PUNCT = new Map<number, Map<number, string>>();
for (const op of ['==', '!=', '<=', '>=', '<<', '>>']) {
  const m = TWO_CHAR_PUNCT.get(op.charCodeAt(0)) ?? new Map<number, string>();
  m.set(op.charCodeAt(1), op);
  TWO_CHAR_PUNCT.set(op.charCodeAt(0), m);
}
/** One-character punctuation by character code (an array index rather than a set lookup of a new string). */
const ONE_CHAR_PUNCT: (string | undefined)[] = [];
for (const p of [',', '.', ':', ';', '{', '}', '[', ']', '(', ')', '<', '>', '^', '&', '|', '!', '/', '-', '*', '@', '$', '=', '+']) ONE_CHAR_PUNCT[p.charCodeAt(0)] = p;

/** All tokens of a text at once (tests, tools); the parser reads through a Lexer instead. */
export function tokenize(text: string, src = 0): LexResult {
  const lx = new Lexer(text, src);
  const tokens: Token[] = [];
  for (;;) {
    const t = lx.next();
    tokens.push(t);
    if (t.kind === 'eof') break;
  }
  return { tokens, problems: lx.problems, lineStarts: lx.lineStarts };
}

/**
 * An on-demand tokenizer: the parser pulls one token at a time, so the tokens it does not keep
 * in the tree (newlines, punctuation) die young instead of living in a big array.
 */
export class Lexer {
  readonly problems: LexProblem[] = [];
  /** Offset of each line's first character, up to where the text has been read. */
  readonly lineStarts: number[] = [0];
  private i = 0;
  private line = 0;
  private lineStart = 0;
  // Whether anything but blanks stood on the current line before a comment: a comment on a line
  // of its own swallows that line's newline (nft emits no newline token for it).
  private lineHasContent = false;
  private crReported = false;
  private readonly n: number;

  constructor(private readonly text: string, private readonly src = 0) {
    this.n = text.length;
  }

  private newline(at: number): void {
    this.line++;
    this.lineStart = at;
    this.lineStarts.push(at);
  }

  /**
   * Goes on reading at `offset`, on the current line: the parser has skipped a rule it kept from
   * the document's previous version (lower-cache.ts), whose text holds no newline.
   */
  skipTo(offset: number): void {
    this.i = offset;
  }

  private tok(kind: TokKind, text: string, pos: number, end: number): Token {
    this.lineHasContent = true;
    this.i = end;
    return { kind, text, pos, end, src: this.src };
  }

  next(): Token {
    const text = this.text;
    const n = this.n;
    while (this.i < n) {
      const i = this.i;
      const c = text.charCodeAt(i);
      if (c === C.SPACE || c === C.TAB) {
        let j = i + 1;
        while (j < n && (text.charCodeAt(j) === C.SPACE || text.charCodeAt(j) === C.TAB)) j++;
        this.i = j;
        continue;
      }
      if (c === C.CR) {
        // nft reports a carriage return as junk; say it once, then read on as if it were a blank.
        if (!this.crReported) {
          this.problems.push({ message: 'carriage return (Windows line ending): nft rejects it, use Unix line endings', line: this.line, col: i - this.lineStart, endCol: i - this.lineStart + 1 });
          this.crReported = true;
        }
        this.i++;
        continue;
      }
      if (c === C.NL) {
        this.i = i + 1;
        this.newline(i + 1);
        this.lineHasContent = false;
        return { kind: 'nl', text: '\n', pos: i, end: i + 1, src: this.src };
      }
      if (c === C.HASH) {
        let j = i;
        while (j < n && text.charCodeAt(j) !== C.NL) j++;
        if (!this.lineHasContent && j < n) {
          j++;
          this.newline(j);
        }
        this.i = j;
        continue;
      }
      if (c === C.BACKSLASH) {
        // A line continuation is a backslash right before the newline.
        if (i + 1 < n && text.charCodeAt(i + 1) === C.NL) {
          this.i = i + 2;
          this.newline(i + 2);
          // A comment alone on the continued line swallows its newline too.
          this.lineHasContent = false;
          continue;
        }
        if (i + 1 < n && text.charCodeAt(i + 1) === C.STAR) return this.tok('star', '\\*', i, i + 2);
        return this.tok('junk', '\\', i, i + 1);
      }
      if (c === C.QUOTE) {
        let j = i + 1;
        while (j < n && text.charCodeAt(j) !== C.QUOTE) j++;
        // Unterminated: nft sees a lone '"' as junk.
        if (j >= n) return this.tok('junk', '"', i, i + 1);
        for (let k = i + 1; k < j; k++) if (text.charCodeAt(k) === C.NL) this.newline(k + 1);
        return this.tok('quoted', text.slice(i + 1, j), i, j + 1);
      }
      if (isDigit(c) || isLetter(c) || c === C.UNDERSCORE || c === C.COLON || c === C.DOT || c === C.LBRACK) {
        if (matchValue(text, i)) {
          const known = found.kind === 'word' ? knownWord(text, found.textStart, found.textEnd) : undefined;
          return this.tok(found.kind, known ?? text.slice(found.textStart, found.textEnd), i, found.end);
        }
      }
      if (i + 1 < n) {
        const two = TWO_CHAR_PUNCT.get(c)?.get(text.charCodeAt(i + 1));
        if (two) return this.tok('punct', two, i, i + 2);
      }
      const one = ONE_CHAR_PUNCT[c];
      if (one !== undefined) return this.tok('punct', one, i, i + 1);
      return this.tok('junk', text[i], i, i + 1);
    }
    return { kind: 'eof', text: '', pos: this.i, end: this.i, src: this.src };
  }
}

/**
 * What matchValue found: one reused record rather than an object (and a string) per candidate
 * pattern, because every word and number of the file goes through here. `textStart`/`textEnd`
 * delimit the token text (without the brackets of `[addr]`).
 */
const found = { kind: 'word' as TokKind, textStart: 0, textEnd: 0, end: 0 };

function setFound(kind: TokKind, textStart: number, textEnd: number, end: number): true {
  found.kind = kind;
  found.textStart = textStart;
  found.textEnd = textEnd;
  found.end = end;
  return true;
}

/** Keeps the candidate `kind` ending at `end` when it is longer than what was found (ties: the first). */
function takeLonger(kind: TokKind, i: number, end: number | undefined): void {
  if (end !== undefined && end > found.end) setFound(kind, i, end, end);
}

/**
 * The longest of the value patterns nft's scanner tries at `i` (flex picks the longest match):
 * IPv6, MAC, dotted quad, classid, time string, number, string, string with asterisk. The
 * result is in `found`; false when no pattern matches.
 */
function matchValue(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  // Fast path: a run of letters and digits that no ':' or '.' follows can only be a plain
  // string or number (addresses, classids and MACs need ':' or '.', times need a unit letter).
  if (isLetter(c) || isDigit(c)) {
    let j = i + 1;
    let letters = isLetter(c);
    for (;;) {
      const d = text.charCodeAt(j);
      if (isDigit(d)) j++;
      else if (isLetter(d)) {
        letters = true;
        j++;
      } else break;
    }
    const next = text.charCodeAt(j);
    if (next !== C.COLON && next !== C.DOT) {
      if (isLetter(c)) return matchString(text, i);
      if (!letters) return setFound('num', i, j, j);
    } else if (next === C.DOT && !letters) return matchDottedDigits(text, i, j);
  }
  return matchValueSlowly(text, i);
}

/** matchValue past its fast paths: every pattern that may start with the character at `i`. */
function matchValueSlowly(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === C.LBRACK) {
    const m = matchIp6(text, i + 1);
    return m !== undefined && text.charCodeAt(m) === C.RBRACK && setFound('addr6', i + 1, m, m + 1);
  }
  if (c === C.COLON) {
    if (text.charCodeAt(i + 1) !== C.COLON) return false;
    const m = matchIp6(text, i);
    return m !== undefined && setFound('addr6', i, m, m);
  }
  if (c === C.DOT || c === C.UNDERSCORE) {
    // '.' alone is the concatenation dot; followed by a string character it starts a string.
    if (c === C.DOT && !isStringChar(text.charCodeAt(i + 1))) return false;
    return matchString(text, i);
  }
  found.end = -1;
  if (isHex(c)) {
    takeLonger('addr6', i, matchIp6(text, i));
    takeLonger('mac', i, matchMac(text, i));
    takeLonger('classid', i, matchClassid(text, i));
  }
  if (isDigit(c)) {
    takeLonger('addr4', i, matchIp4(text, i));
    takeLonger('time', i, matchTime(text, i));
    takeLonger('num', i, matchNumber(text, i));
    return true;
  }
  if (isLetter(c)) {
    const hexEnd = found.end;
    const kind = found.kind;
    matchString(text, i);
    // A hex-looking candidate (a MAC, a classid) at least as long as the string wins.
    if (hexEnd >= found.end) setFound(kind, i, hexEnd, hexEnd);
  }
  return found.end >= 0;
}

/**
 * Digits up to `digitsEnd`, then a dot. When the run of digits and dots ends at a character
 * that continues no other pattern (no letter: hex, time unit; no ':'), only a dotted quad or
 * the number can match, so the other patterns need no trying (most addresses of a file).
 */
function matchDottedDigits(text: string, i: number, digitsEnd: number): boolean {
  let k = digitsEnd;
  for (let d = text.charCodeAt(k); isDigit(d) || d === C.DOT; d = text.charCodeAt(++k));
  const after = text.charCodeAt(k);
  if (isLetter(after) || after === C.COLON) return matchValueSlowly(text, i);
  const m4 = matchIp4(text, i);
  return m4 !== undefined ? setFound('addr4', i, m4, m4) : setFound('num', i, digitsEnd, digitsEnd);
}

function matchString(text: string, i: number): true {
  let j = i + 1;
  const n = text.length;
  while (j < n && isStringChar(text.charCodeAt(j))) j++;
  // {string}\* , {string}\\\* and {string}\\\*{string}: a trailing asterisk makes a wildcard string.
  if (text.charCodeAt(j) === C.STAR) return setFound('star', i, j + 1, j + 1);
  if (text.charCodeAt(j) === C.BACKSLASH && text.charCodeAt(j + 1) === C.STAR) {
    let k = j + 2;
    if (k < n && (isLetter(text.charCodeAt(k)) || text.charCodeAt(k) === C.UNDERSCORE || text.charCodeAt(k) === C.DOT)) {
      k++;
      while (k < n && isStringChar(text.charCodeAt(k))) k++;
    }
    return setFound('star', i, k, k);
  }
  return setFound('word', i, j, j);
}

function matchNumber(text: string, i: number): number {
  const n = text.length;
  if (text.charCodeAt(i) === C.D0 && (text[i + 1] === 'x' || text[i + 1] === 'X') && isHex(text.charCodeAt(i + 2))) {
    let j = i + 2;
    while (j < n && isHex(text.charCodeAt(j))) j++;
    return j;
  }
  let j = i;
  while (j < n && isDigit(text.charCodeAt(j))) j++;
  return j;
}

/** (d{1,3}.){3}d{1,3} */
function matchIp4(text: string, i: number): number | undefined {
  let j = i;
  for (let part = 0; part < 4; part++) {
    let k = j;
    while (k < text.length && k - j < 3 && isDigit(text.charCodeAt(k))) k++;
    if (k === j) return undefined;
    if (part < 3) {
      if (text.charCodeAt(k) !== C.DOT) return undefined;
      j = k + 1;
    } else j = k;
  }
  return j;
}

/** ([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)? with at least one unit. */
const TIME_UNITS = ['d', 'h', 'm', 's', 'ms'];

function matchTime(text: string, i: number): number | undefined {
  const units = TIME_UNITS;
  let j = i;
  let u = 0;
  let any = false;
  while (u < units.length) {
    let k = j;
    while (k < text.length && isDigit(text.charCodeAt(k))) k++;
    if (k === j) break;
    let next = -1;
    for (let v = u; v < units.length; v++) {
      // flex takes the longest match: "10ms" is milliseconds, not minutes followed by junk.
      if (units[v] === 'm' && text.startsWith('ms', k)) continue;
      if (text.startsWith(units[v], k)) {
        next = v;
        break;
      }
    }
    if (next < 0) break;
    j = k + units[next].length;
    u = next + 1;
    any = true;
  }
  return any ? j : undefined;
}

/** aa:bb:cc:dd:ee:ff (1-2 hex digits per group). */
function matchMac(text: string, i: number): number | undefined {
  let j = i;
  for (let g = 0; g < 6; g++) {
    let k = j;
    while (k < text.length && k - j < 2 && isHex(text.charCodeAt(k))) k++;
    if (k === j) return undefined;
    if (g < 5) {
      if (text.charCodeAt(k) !== C.COLON) return undefined;
      j = k + 1;
    } else j = k;
  }
  return j;
}

/** hex{1,4}:hex{1,4} when followed by one of " \t\n:-},". */
function matchClassid(text: string, i: number): number | undefined {
  let k = i;
  while (k < text.length && k - i < 4 && isHex(text.charCodeAt(k))) k++;
  if (k === i || text.charCodeAt(k) !== C.COLON) return undefined;
  const s = k + 1;
  let e = s;
  while (e < text.length && e - s < 4 && isHex(text.charCodeAt(e))) e++;
  if (e === s) return undefined;
  const next = text.charCodeAt(e);
  if (e >= text.length || next === C.SPACE || next === C.TAB || next === C.NL || next === C.COLON || next === C.DASH || next === C.RBRACE || next === C.COMMA) return e;
  return undefined;
}

/**
 * The end of the longest IPv6 address at `i`, in the forms nft's scanner knows: eight groups,
 * or fewer with one '::', and an embedded dotted quad only as ::a.b.c.d or ::ffff:a.b.c.d.
 */
function matchIp6(text: string, i: number): number | undefined {
  // The candidate run: hex digits, ':' and '.', at most 45 characters.
  let j = i;
  let colon = false;
  while (j < text.length && j - i < 45) {
    const c = text.charCodeAt(j);
    if (c === C.COLON) colon = true;
    if (isHex(c) || c === C.COLON || c === C.DOT) j++;
    else break;
  }
  if (!colon) return undefined;
  for (let end = j; end > i + 1; end--) {
    if (isIp6(text.slice(i, end))) return end;
  }
  return undefined;
}

export function isIp6(s: string): boolean {
  if (s.length < 2) return false;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return false;
  if (s.includes('.')) {
    // Only ::a.b.c.d and ::ffff:a.b.c.d.
    const low = s.toLowerCase();
    const rest = low.startsWith('::ffff:') ? s.slice(7) : low.startsWith('::') ? s.slice(2) : undefined;
    if (rest === undefined) return false;
    return matchIp4(rest, 0) === rest.length;
  }
  const groups = (part: string): number | undefined => {
    if (part === '') return 0;
    const gs = part.split(':');
    for (const g of gs) if (g.length < 1 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return undefined;
    return gs.length;
  };
  if (dbl < 0) return groups(s) === 8;
  const left = groups(s.slice(0, dbl));
  const right = groups(s.slice(dbl + 2));
  if (left === undefined || right === undefined) return false;
  return left + right <= 7;
}
