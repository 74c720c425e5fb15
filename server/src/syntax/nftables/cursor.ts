// The token stream the parser reads: the main file's tokens with included files spliced in where
// their `include` directive stands (as nft's scanner does), variable scopes, and the problems
// found so far. Tokens of an included file keep their own positions; `rangeOf` maps them back to
// the include directive of the main file, because a finding must land in the document being
// checked.
import type { Position, Range } from '../../model/policy';
import type { Define, Span } from './ast';
import { isStringKind, Lexer, Token } from './lexer';
import { GLOBAL_KEYWORDS } from './keywords';

export interface Source {
  path?: string;
  text: string;
  /** Offset of each line's first character. */
  lineStarts: number[];
  lexer: Lexer;
  /** For included files: the include directive in the main file (outermost one when nested). */
  includeRange?: Range;
  /** Include depth (main file 0). */
  depth: number;
}

export interface Problem {
  code: 'syntax' | 'undefined-reference' | 'invalid-value' | 'cidr-host-bits' | 'unsupported';
  message: string;
  range: Range;
  data?: Record<string, unknown>;
}

/** Thrown by the parser on input it cannot continue with; caught at statement boundaries. */
export class ParseError extends Error {
  constructor(readonly tok: Token, message: string, readonly last?: Token, readonly code: Problem['code'] = 'syntax') {
    super(message);
  }
}

/** One source being read: its lexer and the tokens looked ahead at. */
interface Frame { lexer: Lexer; ahead: Token[] }

export class Cursor {
  readonly sources: Source[] = [];
  readonly problems: Problem[] = [];
  /** The define of every variable named so far, in order (a rule that names one depends on it). */
  readonly varsNamed: Define[] = [];
  private readonly frames: Frame[] = [];
  private readonly scopes: Map<string, Define>[] = [new Map()];
  /** The last token consumed (for spans). */
  prev: Token;
  /** Braces opened and not closed by the tokens consumed so far. */
  depth = 0;

  constructor(text: string, path: string | undefined, private readonly readFile?: (p: string) => string | undefined) {
    const lexer = new Lexer(text, 0);
    this.sources.push({ path, text, depth: 0, lineStarts: lexer.lineStarts, lexer });
    this.frames.push({ lexer, ahead: [] });
    this.prev = this.peek();
  }

  // ---- reading ----------------------------------------------------------------------------

  /** The current token; the end of an included file is skipped (its includer continues). */
  peek(): Token {
    let f = this.frames[this.frames.length - 1];
    if (!f.ahead.length) f.ahead.push(f.lexer.next());
    let t = f.ahead[0];
    while (t.kind === 'eof' && this.frames.length > 1) {
      this.frames.pop();
      f = this.frames[this.frames.length - 1];
      if (!f.ahead.length) f.ahead.push(f.lexer.next());
      t = f.ahead[0];
    }
    return t;
  }

  /** The token k places after the current one (within the same source; enough for our lookahead). */
  peekAt(k: number): Token {
    this.peek();
    const f = this.frames[this.frames.length - 1];
    while (f.ahead.length <= k) {
      const last = f.ahead[f.ahead.length - 1];
      if (last.kind === 'eof') return last;
      f.ahead.push(f.lexer.next());
    }
    return f.ahead[k];
  }

  next(): Token {
    const t = this.peek();
    const f = this.frames[this.frames.length - 1];
    if (t.kind !== 'eof') f.ahead.shift();
    if (t.kind === 'punct') {
      if (t.text === '{') this.depth++;
      else if (t.text === '}') this.depth--;
    }
    this.prev = t;
    return t;
  }

  /**
   * The main file's current line from the current token to the newline, when nothing but that
   * token has been read of it (the parser may skip a rule it kept); undefined otherwise.
   */
  restOfLine(): { text: string; first: Token; column: number } | undefined {
    const f = this.frames[this.frames.length - 1];
    const first = this.peek();
    if (this.frames.length !== 1 || f.ahead.length !== 1 || first.src !== 0) return undefined;
    const text = this.sources[0].text;
    let end = text.indexOf('\n', first.pos);
    if (end < 0) end = text.length;
    const lineStarts = this.sources[0].lineStarts;
    return { text: text.slice(first.pos, end), first, column: first.pos - lineStarts[lineStarts.length - 1] };
  }

  /** Consumes the rest of the line as `restOfLine` gave it; `last` is its last token. */
  skipRestOfLine(last: Token): void {
    const f = this.frames[0];
    f.ahead.length = 0;
    f.lexer.skipTo(last.end);
    this.prev = last;
  }

  /** Whether the current token is the word (keyword) `w`. */
  isWord(w: string, t: Token = this.peek()): boolean {
    return t.kind === 'word' && t.text === w;
  }

  isPunct(p: string, t: Token = this.peek()): boolean {
    return t.kind === 'punct' && t.text === p;
  }

  accept(w: string): Token | undefined {
    const t = this.peek();
    if ((t.kind === 'word' || t.kind === 'punct') && t.text === w) return this.next();
    return undefined;
  }

  expect(w: string, what?: string): Token {
    const t = this.peek();
    if ((t.kind === 'word' || t.kind === 'punct') && t.text === w) return this.next();
    throw new ParseError(t, `expected ${what ?? quote(w)}, found ${describe(t)}`);
  }

  /** An identifier: a string token that is not a keyword (nft's `identifier: STRING`). */
  identifier(what: string): Token {
    const t = this.peek();
    if (isStringKind(t.kind) && !(t.kind === 'word' && GLOBAL_KEYWORDS.has(t.text))) return this.next();
    if (t.kind === 'word' && GLOBAL_KEYWORDS.has(t.text)) throw new ParseError(t, `expected ${what}, found the keyword '${t.text}' (keywords cannot be used as names)`);
    throw new ParseError(t, `expected ${what}, found ${describe(t)}`);
  }

  atSeparator(): boolean {
    const t = this.peek();
    return t.kind === 'nl' || (t.kind === 'punct' && t.text === ';');
  }

  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  /** One statement separator (newline or ';'), required. */
  separator(after: string): void {
    const t = this.peek();
    if (t.kind === 'nl' || this.isPunct(';', t)) {
      this.next();
      return;
    }
    if (t.kind === 'eof') return;
    throw new ParseError(t, `expected a newline or ';' after ${after}, found ${describe(t)}`);
  }

  /**
   * Error recovery: leave the braces the bad statement opened (a set, an anonymous chain), then
   * skip to the end of the statement — the next separator — or stop before a '}' that closes
   * the enclosing block.
   */
  recover(depth: number): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (this.depth > depth) {
        this.next();
        continue;
      }
      if (t.kind === 'punct' && t.text === '}') {
        if (this.depth <= depth) return;
      } else if (t.kind === 'nl' || (t.kind === 'punct' && t.text === ';')) {
        if (this.depth === depth) {
          this.next();
          return;
        }
      }
      this.next();
    }
  }

  // ---- includes ---------------------------------------------------------------------------

  /** Splices the tokens of an included file in at the current position. */
  include(pathTok: Token, directive: Span): void {
    const fromSrc = this.sources[pathTok.src];
    if (fromSrc.depth >= 16) {
      this.problem('syntax', `include nested too deeply (nft allows 16 levels)`, directive);
      return;
    }
    const name = pathTok.text;
    if (/[*?[]/.test(name)) {
      // nft expands wildcards and accepts no match; we cannot list directories through readFile.
      this.problem('unsupported', `wildcard include "${name}" is not followed; rules from those files are not analysed`, directive);
      return;
    }
    const candidates = includeCandidates(name, fromSrc.path);
    let found: { path: string; text: string } | undefined;
    for (const c of candidates) {
      if (this.sources.some((s) => s.path === c && s.depth <= fromSrc.depth && this.isOpen(s))) {
        this.problem('syntax', `include cycle: "${name}" includes itself`, directive);
        return;
      }
      const text = this.readFile?.(c);
      if (text !== undefined) {
        found = { path: c, text };
        break;
      }
    }
    if (!found) {
      this.problem('undefined-reference', `included file not found: "${name}"${candidates.length ? ` (looked for ${candidates.join(', ')})` : ''}`, directive);
      return;
    }
    const src = this.sources.length;
    const includeRange = fromSrc.includeRange ?? this.rangeOf(directive);
    const lexer = new Lexer(found.text, src);
    this.sources.push({ path: found.path, text: found.text, includeRange, depth: fromSrc.depth + 1, lineStarts: lexer.lineStarts, lexer });
    this.frames.push({ lexer, ahead: [] });
  }

  private isOpen(s: Source): boolean {
    return this.frames.some((f) => f.lexer === s.lexer);
  }

  /** Lexical problems (carriage returns), once the whole input has been read. */
  lexProblems(): void {
    for (const src of this.sources) {
      for (const p of src.lexer.problems) {
        const range = src.includeRange ?? { start: { line: p.line, character: p.col }, end: { line: p.line, character: p.endCol } };
        this.problems.push({ code: 'syntax', message: (src.includeRange ? `in ${src.path}:${p.line + 1}:${p.col + 1}: ` : '') + p.message, range });
      }
    }
  }

  // ---- scopes -----------------------------------------------------------------------------

  openScope(): void {
    this.scopes.push(new Map());
  }

  closeScope(): void {
    if (this.scopes.length > 1) this.scopes.pop();
  }

  lookup(name: string): Define | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const d = this.scopes[i].get(name);
      if (d) return d;
    }
    return undefined;
  }

  /** `define`: an error when the name is visible already (nft looks through enclosing scopes). */
  define(d: Define): boolean {
    if (this.lookup(d.name)) return false;
    this.scopes[this.scopes.length - 1].set(d.name, d);
    return true;
  }

  redefine(d: Define): void {
    this.scopes[this.scopes.length - 1].set(d.name, d);
  }

  undefine(name: string): boolean {
    return this.scopes[this.scopes.length - 1].delete(name);
  }

  // ---- ranges and problems ----------------------------------------------------------------

  private lastLine = 0;

  /** Line and character of an offset in a source (binary search in its line table). */
  position(src: number, offset: number): Position {
    const starts = this.sources[src].lineStarts;
    let line = this.lastLine < starts.length ? this.lastLine : 0;
    if (!(starts[line] <= offset && (line + 1 >= starts.length || offset < starts[line + 1]))) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      line = lo;
    }
    this.lastLine = line;
    return { line, character: offset - starts[line] };
  }

  /** The range of a span (or token); tokens of included files map to their include directive. */
  rangeOf(span: Span | Token, last?: Token): Range {
    // Tokens have a `pos`, tree nodes do not (a cheaper test than `in` on the many node shapes).
    const isTok = (span as Token).pos !== undefined;
    const first = isTok ? (span as Token) : (span as Span).first;
    const end = last ?? (isTok ? (span as Token) : (span as Span).last);
    return this.rangeBetween(first, end);
  }

  /** The range from one token to another (only tokens reach here: its property loads stay monomorphic). */
  rangeBetween(first: Token, last: Token): Range {
    if (first.src !== 0 || last.src !== 0) {
      const src = this.sources[first.src !== 0 ? first.src : last.src];
      if (src.includeRange) return src.includeRange;
    }
    return { start: this.position(0, first.pos), end: this.position(0, last.end) };
  }

  /** "path:line:col" of a token, for messages about included files. */
  where(t: Token): string {
    const p = this.position(t.src, t.pos);
    return `${this.sources[t.src].path}:${p.line + 1}:${p.character + 1}`;
  }

  problem(code: Problem['code'], message: string, at: Span | Token, data?: Record<string, unknown>): void {
    const first = (at as Token).pos !== undefined ? (at as Token) : (at as Span).first;
    const where = first.src !== 0 ? `in ${this.where(first)}: ` : '';
    this.problems.push({ code, message: where + message, range: this.rangeOf(at), data });
  }

  /** A problem at a range already mapped to the main file. */
  problemAt(code: Problem['code'], message: string, range: Range): void {
    this.problems.push({ code, message, range });
  }

  error(e: ParseError): void {
    this.problem(e.code, e.message, e.last ? { first: e.tok, last: e.last } : e.tok);
  }
}

/** The files an include may mean: relative to the including file, then nft's default include path. */
function includeCandidates(name: string, from: string | undefined): string[] {
  if (name.startsWith('/')) return [name];
  const out: string[] = [];
  if (from) {
    const slash = from.lastIndexOf('/');
    out.push(normalize((slash >= 0 ? from.slice(0, slash + 1) : '') + name));
  } else out.push(normalize(name));
  if (!name.startsWith('./') && !name.startsWith('../')) out.push('/etc/' + name);
  return [...new Set(out)];
}

function normalize(p: string): string {
  const abs = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && parts.length && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(seg);
  }
  return (abs ? '/' : '') + parts.join('/');
}

export function quote(s: string): string {
  return `'${s}'`;
}

/** How a token reads in a message: "newline", "end of file", "'}'", "'foo'". */
export function describe(t: Token): string {
  switch (t.kind) {
    case 'nl':
      return 'end of line';
    case 'eof':
      return 'end of file';
    case 'quoted':
      return `"${t.text}"`;
    default:
      return `'${t.text}'`;
  }
}
