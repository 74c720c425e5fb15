// Splits one line of an iptables-restore file into words exactly as iptables-restore does
// (xshared.c add_param_to_argv), keeping the source span of every word.
//
// The rules, which differ from a shell's:
// - words are separated by space, tab (and newline); other whitespace (\r, \v, \f) is part of a word;
// - a double quote opens a quoted part anywhere in a word ("a"b c" is one word); inside it a
//   backslash makes the next character literal (\" is a quote, \\ a backslash) and is dropped;
// - the closing quote *ends* the word: `"a b"c` is the two words `a b` and `c`, and `""` is an
//   empty word;
// - single quotes are ordinary characters;
// - an unterminated quote runs to the end of the line (iptables accepts this);
// - a word longer than 1023 characters is an error ("Parameter too long!").

/** A word of a line: its value as iptables sees it and where it is. */
export interface Token {
  /** The word after quote removal and escapes. */
  text: string;
  /** 0-based offset in the line of the word's first character (an opening quote included). */
  start: number;
  /** Offset just after the word's last character (a closing quote included). */
  end: number;
  /** Whether any part of the word was quoted. */
  quoted: boolean;
}

export interface LexResult {
  tokens: Token[];
  /** Offset of a quote that is never closed, or -1. */
  unterminatedQuote: number;
  /** Words that iptables-restore refuses as too long (1024 characters or more). */
  tooLong: Token[];
}

/** iptables' parameter buffer is 1024 bytes including the terminating NUL. */
export const MAX_WORD_LENGTH = 1023;

const SPACE = 32;
const TAB = 9;
const NEWLINE = 10;
const QUOTE = 34;
const BACKSLASH = 92;

/**
 * Reusable Token objects for reading many lines: `lexWords` fills the pool's objects instead of
 * allocating new ones. The tokens then belong to the pool and are overwritten by the next line;
 * whoever keeps one must copy it (`copyToken`).
 */
export class TokenPool {
  /** The words of the current line (the array is reused too: emptying an array frees its room). */
  readonly tokens: Token[] = [];
  /** What lexWords returns for the current line. */
  readonly result: LexResult = { tokens: this.tokens, unterminatedQuote: -1, tooLong: [] };
  private readonly free: Token[] = [];
  private used = 0;

  reset(): void { this.used = 0; }

  /** Ends the line: `tokens` holds the words taken since `reset`. */
  finish(): void { this.tokens.length = this.used; }

  take(text: string, start: number, end: number, quoted: boolean): Token {
    let t = this.free[this.used];
    if (t) { t.text = text; t.start = start; t.end = end; t.quoted = quoted; }
    else { t = { text, start, end, quoted }; this.free.push(t); }
    this.tokens[this.used++] = t;
    return t;
  }
}

export function copyToken(t: Token): Token {
  return { text: t.text, start: t.start, end: t.end, quoted: t.quoted };
}

/** Splits `line` (from offset `from`, to `to`) into words; with a pool, into its objects (and its result object). */
export function lexWords(line: string, from = 0, to = line.length, pool?: TokenPool): LexResult {
  if (pool) pool.reset();
  const tokens: Token[] = pool ? pool.tokens : [];
  let tooLong: Token[] | undefined;
  let i = from;
  while (i < to) {
    let c = line.charCodeAt(i);
    if (c === SPACE || c === TAB || c === NEWLINE) { i++; continue; }
    const start = i;
    // Fast path: a plain word without quotes is a slice of the line.
    while (i < to) {
      c = line.charCodeAt(i);
      if (c === SPACE || c === TAB || c === NEWLINE || c === QUOTE) break;
      i++;
    }
    if (i >= to || c !== QUOTE) {
      const text = line.slice(start, i);
      const tok = pool ? pool.take(text, start, i, false) : { text, start, end: i, quoted: false };
      if (!pool) tokens.push(tok);
      if (i - start > MAX_WORD_LENGTH) (tooLong ??= []).push(tok);
      continue;
    }
    // Slow path: the word contains a quoted part.
    let text = line.slice(start, i);
    let closed = false;
    i++; // opening quote
    let segStart = i;
    while (i < to) {
      c = line.charCodeAt(i);
      if (c === BACKSLASH) {
        text += line.slice(segStart, i);
        if (i + 1 < to) { text += line[i + 1]; i += 2; } else { i += 1; }
        segStart = i;
        continue;
      }
      if (c === QUOTE) { closed = true; break; }
      i++;
    }
    text += line.slice(segStart, i);
    if (closed) i++; // closing quote ends the word
    const tok = pool ? pool.take(text, start, i, true) : { text, start, end: i, quoted: true };
    if (!pool) tokens.push(tok);
    if (text.length > MAX_WORD_LENGTH) (tooLong ??= []).push(tok);
    if (!closed) return result(pool, tokens, findOpenQuote(line, start), tooLong ?? NONE);
  }
  return result(pool, tokens, -1, tooLong ?? NONE);
}

function result(pool: TokenPool | undefined, tokens: Token[], unterminatedQuote: number, tooLong: Token[]): LexResult {
  if (!pool) return { tokens, unterminatedQuote, tooLong };
  pool.finish();
  const r = pool.result;
  r.unterminatedQuote = unterminatedQuote;
  r.tooLong = tooLong;
  return r;
}

const NONE: Token[] = [];

function findOpenQuote(line: string, start: number): number {
  const q = line.indexOf('"', start);
  return q < 0 ? start : q;
}

/** Words of a line after a `:`, `*` header: split on space and tab only, as strtok(" \t\n") does. */
export function splitHeaderWords(line: string, from: number): Token[] {
  const out: Token[] = [];
  let i = from;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === SPACE || c === TAB || c === NEWLINE) { i++; continue; }
    const s = i;
    while (i < n) {
      const d = line.charCodeAt(i);
      if (d === SPACE || d === TAB || d === NEWLINE) break;
      i++;
    }
    out.push({ text: line.slice(s, i), start: s, end: i, quoted: false });
  }
  return out;
}
