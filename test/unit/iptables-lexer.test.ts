// The iptables-restore word splitter: quoting rules of xshared.c add_param_to_argv and exact
// source offsets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lexWords, splitHeaderWords, TokenPool } from '../../server/src/syntax/iptables/lexer';

const words = (line: string): [string, number, number][] => lexWords(line).tokens.map((t) => [t.text, t.start, t.end]);

test('plain words are separated by spaces and tabs, with exact offsets', () => {
  assert.deepEqual(words('-A INPUT\t-j  ACCEPT'), [['-A', 0, 2], ['INPUT', 3, 8], ['-j', 9, 11], ['ACCEPT', 13, 19]]);
  assert.deepEqual(words('   '), []);
  assert.deepEqual(words(''), []);
});

test('a double-quoted comment is one word, and a -j inside it is text', () => {
  const line = '-A INPUT -m comment --comment "allow -j DROP here" -j ACCEPT';
  const t = lexWords(line).tokens;
  assert.equal(t.length, 8);
  assert.equal(t[5].text, 'allow -j DROP here');
  assert.equal(t[5].quoted, true);
  // The span covers the quotes.
  assert.equal(line.slice(t[5].start, t[5].end), '"allow -j DROP here"');
  assert.deepEqual([t[6].text, t[7].text], ['-j', 'ACCEPT']);
});

test('backslash inside quotes makes the next character literal; outside quotes it is ordinary', () => {
  assert.deepEqual(lexWords('"a \\"b\\" c"').tokens.map((t) => t.text), ['a "b" c']);
  assert.deepEqual(lexWords('"a\\\\b"').tokens.map((t) => t.text), ['a\\b']);
  assert.deepEqual(lexWords('a\\b').tokens.map((t) => t.text), ['a\\b']);
});

test('a quote may open inside a word, and the closing quote ends the word', () => {
  assert.deepEqual(words('a"b c"'), [['ab c', 0, 6]]);
  assert.deepEqual(words('"a b"c'), [['a b', 0, 5], ['c', 5, 6]]);
  assert.deepEqual(words('x "" y'), [['x', 0, 1], ['', 2, 4], ['y', 5, 6]]);
});

test('single quotes are ordinary characters', () => {
  assert.deepEqual(lexWords("--comment 'a b'").tokens.map((t) => t.text), ['--comment', "'a", "b'"]);
});

test('an unterminated quote runs to the end of the line and is reported', () => {
  const r = lexWords('--comment "abc def');
  assert.deepEqual(r.tokens.map((t) => t.text), ['--comment', 'abc def']);
  assert.equal(r.unterminatedQuote, 10);
  assert.equal(lexWords('"closed"').unterminatedQuote, -1);
});

test('carriage return and vertical tab are part of a word, not separators', () => {
  assert.deepEqual(lexWords('ACCEPT\r').tokens.map((t) => t.text), ['ACCEPT\r']);
});

test('words of 1024 characters or more are too long for iptables-restore', () => {
  assert.equal(lexWords('x'.repeat(1023)).tooLong.length, 0);
  assert.equal(lexWords('x'.repeat(1024)).tooLong.length, 1);
  assert.equal(lexWords(`"${'x'.repeat(1024)}"`).tooLong.length, 1);
});

test('lexing can start after a counters prefix', () => {
  const line = '[12:345] -A INPUT';
  assert.deepEqual(lexWords(line, 8).tokens.map((t) => [t.text, t.start]), [['-A', 9], ['INPUT', 12]]);
});

test('a token pool reuses word objects from line to line', () => {
  const pool = new TokenPool();
  const a = lexWords('-A INPUT', 0, 8, pool).tokens[0];
  const b = lexWords('-I FORWARD', 0, 10, pool).tokens[0];
  assert.equal(a, b);
  assert.equal(b.text, '-I');
});

test('header words split on spaces and tabs only', () => {
  assert.deepEqual(splitHeaderWords(':INPUT\tACCEPT [0:0]', 1).map((t) => [t.text, t.start]), [['INPUT', 1], ['ACCEPT', 7], ['[0:0]', 14]]);
  assert.deepEqual(splitHeaderWords(': FOO -', 1).map((t) => t.text), ['FOO', '-']);
});
