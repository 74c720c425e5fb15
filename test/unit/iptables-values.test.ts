// Numbers, ports, protocols, addresses and ICMP types read the way iptables 1.8 reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNetwork, parseAddressList, parseV4Numeric, parseV6 } from '../../server/src/syntax/iptables/addresses';
import { parseIcmpType } from '../../server/src/syntax/iptables/icmp';
import { gaiPort, parsePort, parseProtocol, protocolName, strtoui } from '../../server/src/syntax/iptables/numbers';

test('strtoui is C strtoumax with base 0: hex, octal, leading space and +, whole word', () => {
  assert.equal(strtoui('22', 65535), 22);
  assert.equal(strtoui('0x16', 65535), 22);
  assert.equal(strtoui('026', 65535), 22);
  assert.equal(strtoui('0', 65535), 0);
  assert.equal(strtoui(' 22', 65535), 22);
  assert.equal(strtoui('+22', 65535), 22);
  assert.equal(strtoui('09', 65535), undefined);
  assert.equal(strtoui('0x', 65535), undefined);
  assert.equal(strtoui('-1', 65535), undefined);
  assert.equal(strtoui('22 ', 65535), undefined);
  assert.equal(strtoui('', 65535), undefined);
  assert.equal(strtoui('65536', 65535), undefined);
  assert.equal(strtoui('0', 255, 1), undefined);
});

test('tcp-style ports: a number or a service name of the protocol', () => {
  assert.equal(parsePort('ssh', 'tcp'), 22);
  assert.equal(parsePort('https', 'tcp'), 443);
  assert.equal(parsePort('ntp', 'tcp'), undefined); // ntp is udp only in /etc/services
  assert.equal(parsePort('ntp', 'udp'), 123);
  assert.equal(parsePort('022', 'tcp'), 18); // octal
  assert.equal(parsePort('70000', 'tcp'), undefined);
  assert.equal(parsePort('SSH', 'tcp'), undefined); // service names are case-sensitive
});

test('udp-style ports (getaddrinfo): decimal only, wrap modulo 65536, empty is 0', () => {
  assert.deepEqual(gaiPort('22'), { port: 22 });
  assert.deepEqual(gaiPort('022'), { port: 22 });
  assert.deepEqual(gaiPort(''), { port: 0 });
  assert.deepEqual(gaiPort('65536'), { port: 0, wrapped: true });
  assert.deepEqual(gaiPort('4294967318'), { port: 22, wrapped: true });
  assert.equal(gaiPort('2147483648'), undefined);
  assert.equal(gaiPort('0x16'), undefined);
  assert.equal(gaiPort('-1'), undefined);
  assert.deepEqual(gaiPort('ssh'), { port: 22 }); // any protocol's service
  assert.equal(gaiPort('22 '), undefined);
});

test('protocols: numbers 0-255, all, /etc/protocols names, iptables aliases', () => {
  assert.equal(parseProtocol('tcp'), 6);
  assert.equal(parseProtocol('udp'), 17);
  assert.equal(parseProtocol('icmp'), 1);
  assert.equal(parseProtocol('icmpv6'), 58);
  assert.equal(parseProtocol('ipv6-icmp'), 58);
  assert.equal(parseProtocol('esp'), 50);
  assert.equal(parseProtocol('ah'), 51);
  assert.equal(parseProtocol('gre'), 47);
  assert.equal(parseProtocol('sctp'), 132);
  assert.equal(parseProtocol('udplite'), 136);
  assert.equal(parseProtocol('ospf'), 89);
  assert.equal(parseProtocol('all'), 0);
  assert.equal(parseProtocol('255'), 255);
  assert.equal(parseProtocol('0x6'), 6);
  assert.equal(parseProtocol('256'), undefined);
  assert.equal(parseProtocol('300'), undefined);
  assert.equal(parseProtocol('bogus'), undefined);
  assert.equal(parseProtocol('constructor'), undefined);
  assert.equal(protocolName(6), 'tcp');
  assert.equal(protocolName(58), 'ipv6-icmp');
});

test('IPv4 numbers are iptables dotted numbers: parts in base 0, missing parts are zero', () => {
  assert.equal(parseV4Numeric('10.0.0.1'), 0x0a000001);
  assert.equal(parseV4Numeric('10'), 0x0a000000);
  assert.equal(parseV4Numeric('10.1'), 0x0a010000);
  assert.equal(parseV4Numeric('010.0x10.0.1'), 0x08100001);
  assert.equal(parseV4Numeric('255.255.255.255'), 0xffffffff);
  assert.equal(parseV4Numeric('256.1.1.1'), undefined);
  assert.equal(parseV4Numeric('1.2.3.4.5'), undefined);
  assert.equal(parseV4Numeric('1.2.3.'), undefined);
  assert.equal(parseV4Numeric('1..2.3'), undefined);
  assert.equal(parseV4Numeric('255.255.0', true), undefined); // a mask needs four parts
});

test('IPv6 numbers follow inet_pton', () => {
  assert.equal(parseV6('::'), 0n);
  assert.equal(parseV6('::1'), 1n);
  assert.equal(parseV6('1::'), 1n << 112n);
  assert.equal(parseV6('2001:db8::1'), (0x20010db8n << 96n) | 1n);
  assert.equal(parseV6('1:2:3:4:5:6:7:8'), 0x00010002000300040005000600070008n);
  assert.equal(parseV6('1:2:3:4:5:6:7::'), 0x00010002000300040005000600070000n);
  assert.equal(parseV6('::ffff:1.2.3.4'), 0xffff01020304n);
  assert.equal(parseV6('2001:DB8::'), 0x20010db8n << 96n);
  for (const bad of ['1::2::3', ':::', '12345::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '[::1]', '1.2.3.4', ':1::', '1:', '::ffff:01.2.3.4', '1:2:3:4:5:6:7:8::']) {
    assert.equal(parseV6(bad), undefined, bad);
  }
});

test('address lists: prefixes, dotted masks, host bits, /0 ignores the address', () => {
  const one = (w: string, fam: 4 | 6 = 4) => parseAddressList(w, fam);
  let r = one('10.0.0.0/8');
  assert.deepEqual(r.errors, []);
  assert.equal(r.addrs[0].net, 0x0a000000);
  assert.equal(r.addrs[0].prefix, 8);
  assert.equal(r.addrs[0].hostBits, undefined);
  r = one('10.0.0.1/24');
  assert.equal(r.addrs[0].net, 0x0a000000);
  assert.equal(r.addrs[0].hostBits, true);
  assert.equal(formatNetwork(r.addrs[0]), '10.0.0.0/24');
  r = one('192.168.1.7/255.255.255.0');
  assert.equal(r.addrs[0].prefix, 24);
  assert.equal(formatNetwork(r.addrs[0]), '192.168.1.0/24');
  r = one('10.0.0.0/255.0.255.0');
  assert.equal(r.addrs[0].prefix, -1);
  assert.equal(formatNetwork(r.addrs[0]), '10.0.0.0/255.0.255.0');
  r = one('10.0.0.1/030'); // octal 24
  assert.equal(r.addrs[0].prefix, 24);
  r = one('anything.example/0');
  assert.deepEqual([r.addrs[0].net, r.addrs[0].prefix, r.addrs[0].hostname], [0, 0, undefined]);
  r = one('10.0.0.1,10.0.1.0/24');
  assert.equal(r.addrs.length, 2);
  assert.deepEqual([r.addrs[1].start, r.addrs[1].end], [9, 20]);
  r = one('2001:db8::1/32', 6);
  assert.equal(r.addrs[0].net, 0x20010db8n << 96n);
  assert.equal(r.addrs[0].hostBits, true);
  assert.equal(formatNetwork(r.addrs[0]), '2001:db8::/32');
});

test('bad addresses are errors pointing into the word; names are host names', () => {
  assert.match(parseAddressList('10.0.0.1/33', 4).errors[0].message, /invalid mask `33'/);
  assert.deepEqual([parseAddressList('10.0.0.1/33', 4).errors[0].start, parseAddressList('10.0.0.1/33', 4).errors[0].end], [9, 11]);
  assert.match(parseAddressList('300.1.1.1', 4).errors[0].message, /not an IPv4 address/);
  assert.match(parseAddressList('10.0.0.1/', 4).errors[0].message, /invalid mask/);
  assert.equal(parseAddressList('10.0.0.1,', 4).errors.length, 1);
  assert.match(parseAddressList('::1', 4).errors[0].message, /not an IPv4 address/);
  assert.match(parseAddressList('10.0.0.1', 6).errors[0].message, /not an IPv6 address/);
  assert.match(parseAddressList('2001:db8::/129', 6).errors[0].message, /invalid mask/);
  assert.equal(parseAddressList('1e3.0.0.1', 4).errors.length, 1); // not a name: the last label is numeric
  // getaddrinfo's inet_aton forms, which iptables-restore falls back on.
  assert.equal(parseAddressList('4294967295', 4).addrs[0].net, 0xffffffff);
  assert.equal(parseAddressList('1.2.300', 4).addrs[0].net, 0x0102012c);
  assert.equal(parseAddressList('0x0a000001', 4).addrs[0].net, 0x0a000001);
  assert.equal(parseAddressList('1.2.65536', 4).errors.length, 1);
  assert.equal(parseAddressList('0x.1.2.3', 4).errors.length, 1);
  const h = parseAddressList('www.example.org', 4);
  assert.equal(h.errors.length, 0);
  assert.equal(h.addrs[0].hostname, 'www.example.org');
});

test('ICMP types: names by unambiguous case-insensitive prefix, or type[/code]', () => {
  const keys = (w: string, v6 = false) => { const r = parseIcmpType(w, v6); return 'error' in r ? r.error : r.value.keys; };
  assert.deepEqual(keys('echo-request'), { lo: 8 * 256, hi: 8 * 256 + 255 });
  assert.deepEqual(keys('ECHO-REQUEST'), { lo: 2048, hi: 2303 });
  assert.deepEqual(keys('ping'), { lo: 2048, hi: 2303 });
  assert.deepEqual(keys('port-unreachable'), { lo: 3 * 256 + 3, hi: 3 * 256 + 3 });
  assert.deepEqual(keys('dest'), { lo: 768, hi: 1023 });
  assert.deepEqual(keys('8'), { lo: 2048, hi: 2303 });
  assert.deepEqual(keys('3/1'), { lo: 769, hi: 769 });
  assert.deepEqual(keys('0x8'), { lo: 2048, hi: 2303 });
  assert.match(keys('echo') as string, /ambiguous/);
  assert.match(keys('time') as string, /ambiguous/);
  assert.match(keys('08') as string, /unknown ICMP type/);
  assert.match(keys('256') as string, /unknown ICMP type/);
  assert.match(keys('8/256') as string, /unknown ICMP code/);
  assert.match(keys('foo') as string, /unknown ICMP type/);
  const any = parseIcmpType('any', false);
  assert.ok('value' in any && any.value.any);
  assert.ok('value' in parseIcmpType('255', false) && (parseIcmpType('255', false) as { value: { any: boolean } }).value.any);
  assert.deepEqual(keys('echo-request', true), { lo: 128 * 256, hi: 128 * 256 + 255 });
  assert.deepEqual(keys('neighbor-solicitation', true), { lo: 135 * 256, hi: 135 * 256 + 255 });
  assert.deepEqual(keys('1/4', true), { lo: 256 + 4, hi: 256 + 4 });
  assert.match(keys('any', true) as string, /unknown ICMPv6 type/);
});
