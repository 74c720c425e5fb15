// The nftables tokenizer: what nft's scanner makes one token, newline tokens, offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../server/src/syntax/nftables/lexer';

function kinds(text: string): string[] {
  return tokenize(text).tokens.filter((t) => t.kind !== 'eof').map((t) => `${t.kind}:${t.text}`);
}

test('addresses, prefixes, ranges and numbers are split as nft splits them', () => {
  assert.deepEqual(kinds('ip saddr 10.0.0.1/24 tcp dport 22-80'), [
    'word:ip', 'word:saddr', 'addr4:10.0.0.1', 'punct:/', 'num:24', 'word:tcp', 'word:dport', 'num:22', 'punct:-', 'num:80',
  ]);
  assert.deepEqual(kinds('ip6 saddr fe80::/10 ::1 [2001:db8::1] ::ffff:1.2.3.4'), [
    'word:ip6', 'word:saddr', 'addr6:fe80::', 'punct:/', 'num:10', 'addr6:::1', 'addr6:2001:db8::1', 'addr6:::ffff:1.2.3.4',
  ]);
  assert.deepEqual(kinds('0x4000 1h30m 10ms 2/second'), ['num:0x4000', 'time:1h30m', 'time:10ms', 'num:2', 'punct:/', 'word:second']);
  assert.deepEqual(kinds('aa:bb:cc:dd:ee:ff 1:2'), ['mac:aa:bb:cc:dd:ee:ff', 'classid:1:2']);
});

test('strings: words with - / . _, quoted strings, trailing asterisks', () => {
  assert.deepEqual(kinds('ssh-http mbytes/second eth0.100 "with space" eth* "eth*"'), [
    'word:ssh-http', 'word:mbytes/second', 'word:eth0.100', 'quoted:with space', 'star:eth*', 'quoted:eth*',
  ]);
});

test("a lone '.' is the concatenation operator, '.x' a string", () => {
  assert.deepEqual(kinds('ip saddr . tcp dport'), ['word:ip', 'word:saddr', 'punct:.', 'word:tcp', 'word:dport']);
  assert.deepEqual(kinds('a .b'), ['word:a', 'word:.b']);
});

test('operators', () => {
  assert.deepEqual(kinds('== != <= >= << >> < > & | ^ ! @ $ = { } , ; :'), [
    'punct:==', 'punct:!=', 'punct:<=', 'punct:>=', 'punct:<<', 'punct:>>', 'punct:<', 'punct:>', 'punct:&', 'punct:|',
    'punct:^', 'punct:!', 'punct:@', 'punct:$', 'punct:=', 'punct:{', 'punct:}', 'punct:,', 'punct:;', 'punct::',
  ]);
});

test('newlines: a comment-only line yields none, a line continuation none', () => {
  assert.deepEqual(kinds('a # x\n# only a comment\n  # indented\nb \\\nc\n'), ['word:a', 'nl:\n', 'word:b', 'word:c', 'nl:\n']);
});

test('offsets and the line table', () => {
  const text = 'table ip t {\n  chain c {\n    tcp dport 22 accept\n  }\n}\n';
  const r = tokenize(text);
  assert.deepEqual(r.lineStarts, [0, 13, 25, 49, 53, 55]);
  const dport = r.tokens.find((t) => t.text === '22')!;
  assert.equal(text.slice(dport.pos, dport.end), '22');
  const eof = r.tokens[r.tokens.length - 1];
  assert.equal(eof.kind, 'eof');
  assert.equal(eof.pos, text.length);
});

test('a quoted string may span lines; an unterminated quote is junk', () => {
  const r = tokenize('comment "a\nb" x');
  assert.equal(r.tokens[1].kind, 'quoted');
  assert.equal(r.tokens[1].text, 'a\nb');
  assert.deepEqual(r.lineStarts, [0, 11]);
  assert.equal(tokenize('comment "oops').tokens[1].kind, 'junk');
});

test('a carriage return is reported once', () => {
  const r = tokenize('table ip t {\r\n}\r\n');
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /carriage return/);
  assert.deepEqual(kinds('a\r\nb'), ['word:a', 'nl:\n', 'word:b']);
});

test('a 50k-token input lexes in linear time', () => {
  const line = 'ip saddr 10.1.2.0/24 tcp dport { 22, 80, 443 } ct state new counter accept comment "x"\n';
  const t0 = performance.now();
  const small = tokenize(line.repeat(2000)).tokens.length;
  const t1 = performance.now();
  const big = tokenize(line.repeat(8000)).tokens.length;
  const t2 = performance.now();
  assert.equal(big - 1, (small - 1) * 4);
  // Quadratic would be 16x; allow generous noise.
  assert.ok(t2 - t1 < Math.max(50, (t1 - t0) * 10), `lexing 4x the input took ${(t2 - t1).toFixed(0)} ms vs ${(t1 - t0).toFixed(0)} ms`);
});
