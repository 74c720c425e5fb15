// The nftables tokenizer's value patterns where flex's longest match decides between them
// (classid or MAC, address or number, time or string, wildcards): expectations recorded from
// the tokenizer before it matched values into one reused record, so that rewrite changed nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../server/src/syntax/nftables/lexer';

const CASES: [string, string[]][] = [
  ['ab:cd', ['classid:ab:cd']],
  ['abcd:1 ', ['classid:abcd:1']],
  ['dead:beef::1/64', ['addr6:dead:beef::1', 'punct:/', 'num:64']],
  ['a1.b2', ['word:a1.b2']],
  ['eth0.100', ['word:eth0.100']],
  ['1.2.3.4.5', ['addr4:1.2.3.4', 'word:.5']],
  ['1234.1.1.1', ['num:1234', 'word:.1.1.1']],
  ['ff:ff', ['classid:ff:ff']],
  ['be:ef,', ['classid:be:ef', 'punct:,']],
  ['cafe:1-', ['classid:cafe:1', 'punct:-']],
  ['1d2h3m4s5ms', ['time:1d2h3m4s5ms']],
  ['10m.', ['time:10m', 'punct:.']],
  ['fe80::1%eth0', ['addr6:fe80::1', 'junk:%', 'word:eth0']],
  ['eth\\*x', ['star:eth\\*x']],
  ['_x.y', ['word:_x.y']],
  ['.5', ['word:.5']],
  ['a:b:c:d:e:f', ['mac:a:b:c:d:e:f']],
  ['12:34:56:78:9a:bc:de', ['mac:12:34:56:78:9a:bc', 'punct::', 'word:de']],
  ['0X1fz', ['num:0X1f', 'word:z']],
  ['abc*', ['star:abc*']],
  ['[fe80::1]', ['addr6:fe80::1']],
  ['ip saddr 1.2.3.4/32 accept', ['word:ip', 'word:saddr', 'addr4:1.2.3.4', 'punct:/', 'num:32', 'word:accept']],
  ['1.2.3.4-1.2.3.9', ['addr4:1.2.3.4', 'punct:-', 'addr4:1.2.3.9']],
  ['10.0.0.1:80', ['addr4:10.0.0.1', 'punct::', 'num:80']],
  ['1.2.3.4e', ['addr4:1.2.3.4', 'word:e']],
  ['1.2.3', ['num:1', 'word:.2.3']],
  ['1.2.3.4/24,', ['addr4:1.2.3.4', 'punct:/', 'num:24', 'punct:,']],
  ['9.9.9.9_a', ['addr4:9.9.9.9', 'word:_a']],
  ['1.2.3.4.', ['addr4:1.2.3.4', 'punct:.']],
  ['12.5s', ['num:12', 'word:.5s']],
  ['1.1.1.1\n', ['addr4:1.1.1.1', 'nl:\n']],
];

test('value tokens: the longest pattern wins, ties go to the first nft tries', () => {
  for (const [text, want] of CASES) {
    const got = tokenize(text).tokens.filter((t) => t.kind !== 'eof').map((t) => `${t.kind}:${t.text}`);
    assert.deepEqual(got, want, text);
  }
});
