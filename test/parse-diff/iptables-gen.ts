// A seeded generator of iptables-restore files for the parse differential: valid rulesets over
// the constructs the parser models, then mutations that may or may not break them.
//
// Left out of generation on purpose (differences we cannot or choose not to resolve):
// - host names (`-s example.org`): iptables-restore resolves them through DNS, we do not;
// - `-m set` / `-j SET`: the kernel refuses a set that does not exist in the namespace;
// - match names iptables does not know (`-m nosuch`): by design an `unsupported` info for us
//   (xtables-addons may provide them), an error for iptables-restore without add-ons;
// - extensions the kernel validates against the hook a chain is reached from (mac, owner,
//   addrtype --limit-iface-*, TCPMSS, REJECT outside INPUT/FORWARD/OUTPUT): a user chain's hooks
//   depend on who jumps to it, which the parser does not track;
// - `-R` (iptables-nft 1.8.9 crashes on it in a restore file), `-E`, `-D`/`-C` by rule
//   specification (iptables compares rules by meaning), `-h`/`-V`;
// - abbreviated long options (`--dpo`): getopt accepts unique prefixes, the parser does too, but
//   the generator writes full names.

import type { Rng } from '../rng';

function v4addr(r: Rng): string {
  const kind = r.int(0, 9);
  const a = `${r.int(1, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}`;
  if (kind < 3) return a;
  if (kind < 7) return `${a}/${r.int(0, 32)}`;
  if (kind === 7) return `${a}/${r.pick(['255.255.255.0', '255.255.0.0', '255.0.0.0', '255.255.255.252'])}`;
  if (kind === 8) return `${r.int(1, 223)}.${r.int(0, 255)}.0.0/16`;
  return `${a},${r.int(1, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.0/24`;
}

function v6addr(r: Rng): string {
  const g = (): string => r.int(0, 0xffff).toString(16);
  const kind = r.int(0, 6);
  if (kind === 0) return '::1';
  if (kind === 1) return `2001:db8:${g()}::/${r.int(32, 64)}`;
  if (kind === 2) return `fe80::${g()}:${g()}`;
  if (kind === 3) return `2001:db8::${g()}/${r.int(0, 128)}`;
  if (kind === 4) return `${g()}:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`;
  if (kind === 5) return `fd00::/8,2001:db8::${g()}`;
  return `::ffff:10.0.0.${r.int(0, 255)}`;
}

const IFACES = ['eth0', 'eth1', 'eth+', 'lo', 'wlan0', 'br-lan', 'ppp+', 'enp3s0'];
const ICMP4 = ['echo-request', 'echo-reply', 'destination-unreachable', 'port-unreachable', 'time-exceeded', 'any', '8', '0', '3/3', '11/0', 'ping', 'redirect'];
const ICMP6 = ['echo-request', 'echo-reply', 'neighbour-solicitation', 'router-advertisement', '128', '1/4', 'packet-too-big', 'ping'];
const STATES = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];
const CTSTATES = [...STATES, 'SNAT', 'DNAT'];
const SERVICES = ['ssh', 'http', 'https', 'smtp', 'domain'];

function port(r: Rng): string {
  return r.chance(0.15) ? r.pick(SERVICES) : String(r.pick([22, 80, 443, 53, 25, 8080, 3306, r.int(1, 65535)]));
}

function portSpec(r: Rng): string {
  const k = r.int(0, 9);
  if (k < 6) return port(r);
  const lo = r.int(0, 60000);
  if (k === 6) return `${lo}:${lo + r.int(0, 5000)}`;
  if (k === 7) return `:${lo}`;
  if (k === 8) return `${lo}:`;
  return String(r.int(1, 1024));
}

function multiList(r: Rng): string {
  const out: string[] = [];
  let slots = 0;
  const n = r.int(1, 6);
  for (let i = 0; i < n && slots < 14; i++) {
    if (r.chance(0.25)) { const lo = r.int(1, 60000); out.push(`${lo}:${lo + r.int(1, 100)}`); slots += 2; }
    else { out.push(String(r.int(1, 65535))); slots += 1; }
  }
  return out.join(',');
}

function list<T>(r: Rng, xs: readonly T[], max: number): T[] {
  const n = r.int(1, max);
  const out: T[] = [];
  for (let i = 0; i < n; i++) { const x = r.pick(xs); if (!out.includes(x)) out.push(x); }
  return out;
}

interface Ctx { family: 4 | 6; table: string; chain: string; userChains: string[]; long: boolean }

const L = (ctx: Ctx, short: string, long: string): string => (ctx.long ? long : short);

/** One rule line's words after `-A CHAIN`. */
function ruleBody(r: Rng, ctx: Ctx): string[] {
  const w: string[] = [];
  const neg = (p: number): void => { if (r.chance(p)) w.push('!'); };
  if (r.chance(0.4)) {
    const a = ctx.family === 4 ? v4addr(r) : v6addr(r);
    if (!a.includes(',')) neg(0.2);
    w.push(L(ctx, '-s', '--source'), a);
  }
  if (r.chance(0.25)) {
    const a = ctx.family === 4 ? v4addr(r) : v6addr(r);
    if (!a.includes(',')) neg(0.2);
    w.push(L(ctx, '-d', '--destination'), a);
  }
  const inbound = ctx.chain !== 'OUTPUT' && ctx.chain !== 'POSTROUTING';
  const outbound = ctx.chain !== 'INPUT' && ctx.chain !== 'PREROUTING';
  if (inbound && r.chance(0.3)) { neg(0.15); w.push(L(ctx, '-i', '--in-interface'), r.pick(IFACES)); }
  if (outbound && r.chance(0.2)) { neg(0.15); w.push(L(ctx, '-o', '--out-interface'), r.pick(IFACES)); }
  const icmpName = ctx.family === 4 ? 'icmp' : r.pick(['icmpv6', 'ipv6-icmp']);
  const proto = r.pick(['', '', 'tcp', 'tcp', 'tcp', 'udp', 'udp', icmpName, 'all', '6', '17', 'esp', 'gre', 'sctp', 'TCP']);
  const pl = proto.toLowerCase();
  const isTcp = pl === 'tcp' || pl === '6';
  const isUdp = pl === 'udp' || pl === '17';
  if (proto !== '') {
    if (!isTcp && !isUdp && pl !== 'all' && r.chance(0.2)) w.push('!');
    w.push(L(ctx, '-p', '--protocol'), proto);
  }
  if (ctx.family === 4 && proto === '' && r.chance(0.05)) { neg(0.3); w.push(L(ctx, '-f', '--fragments')); }
  if (isTcp || isUdp) {
    const name = isTcp ? 'tcp' : 'udp';
    const k = r.int(0, 9);
    if (k < 6) {
      if (r.chance(0.4)) w.push(L(ctx, '-m', '--match'), name);
      if (r.chance(0.8)) { neg(0.1); w.push(r.pick(['--dport', '--destination-port']), portSpec(r)); }
      if (r.chance(0.2)) { neg(0.1); w.push(r.pick(['--sport', '--source-port']), portSpec(r)); }
      if (isTcp && r.chance(0.2)) {
        if (r.chance(0.5)) { neg(0.4); w.push('--syn'); } else { neg(0.2); w.push('--tcp-flags', r.pick(['SYN,ACK,FIN,RST', 'ALL', 'SYN,RST']), r.pick(['SYN', 'NONE', 'ALL', 'ACK'])); }
      }
    } else if (k < 9) {
      w.push('-m', 'multiport');
      neg(0.1);
      w.push(r.pick(['--dports', '--sports', '--ports', '--destination-ports']), multiList(r));
    }
  }
  if (pl === 'icmp' && r.chance(0.7)) { neg(0.1); w.push('--icmp-type', r.pick(ICMP4)); }
  if ((pl === 'icmpv6' || pl === 'ipv6-icmp') && r.chance(0.7)) { neg(0.1); w.push('--icmpv6-type', r.pick(ICMP6)); }
  if (r.chance(0.3)) {
    if (r.chance(0.6)) { w.push('-m', 'conntrack'); neg(0.15); w.push('--ctstate', list(r, CTSTATES, 3).join(',')); }
    else { w.push('-m', 'state'); neg(0.15); w.push('--state', list(r, STATES, 3).join(',')); }
  }
  if (r.chance(0.08)) {
    const lo = ctx.family === 4 ? `10.0.${r.int(0, 255)}.${r.int(1, 100)}` : `2001:db8::${r.int(1, 100)}`;
    const hi = ctx.family === 4 ? `10.0.${r.int(0, 255)}.${r.int(100, 254)}` : `2001:db8::${r.int(100, 999)}`;
    w.push('-m', 'iprange');
    neg(0.2);
    w.push(r.pick(['--src-range', '--dst-range']), `${lo}-${hi}`);
  }
  if (r.chance(0.15)) {
    const k = r.int(0, 7);
    if (k === 0) { w.push('-m', 'limit', '--limit', `${r.int(1, 100)}/${r.pick(['second', 'minute', 'min', 'hour', 's', 'day'])}`); if (r.chance(0.5)) w.push('--limit-burst', String(r.int(1, 100))); }
    if (k === 1) w.push('-m', 'recent', '--name', `list${r.int(0, 3)}`, ...(r.chance(0.5) ? ['--set'] : ['--rcheck', '--seconds', String(r.int(1, 3600)), '--hitcount', String(r.int(1, 20))]));
    if (k === 2) { w.push('-m', 'mark'); neg(0.2); w.push('--mark', r.pick(['0x1', '1', '0x10/0xff', '42'])); }
    if (k === 3) { w.push('-m', 'length'); neg(0.2); w.push('--length', r.pick(['0:100', '1500', '64:1500', ':512'])); }
    if (k === 4) w.push('-m', ctx.family === 4 ? 'ttl' : 'hl', ctx.family === 4 ? '--ttl-gt' : '--hl-gt', String(r.int(0, 254)));
    if (k === 5) { w.push('-m', 'pkttype'); neg(0.2); w.push('--pkt-type', r.pick(['unicast', 'broadcast', 'multicast'])); }
    if (k === 6) { w.push('-m', 'addrtype'); neg(0.2); w.push(r.pick(['--dst-type', '--src-type']), r.pick(['LOCAL', 'UNICAST', 'BROADCAST,MULTICAST'])); }
    if (k === 7) w.push('-m', 'connlimit', r.pick(['--connlimit-above', '--connlimit-upto']), String(r.int(1, 100)));
  }
  if (r.chance(0.3)) w.push(L(ctx, '-m', '--match'), 'comment', '--comment', r.pick(['"allow web"', 'ssh', '"a -j DROP inside"', '"quote \\" inside"', '"x"']));
  w.push(...target(r, ctx, isTcp));
  return w;
}

function target(r: Rng, ctx: Ctx, isTcp: boolean): string[] {
  const j = L(ctx, '-j', '--jump');
  const k = r.int(0, 19);
  const users = ctx.userChains.filter((c) => c > ctx.chain || !ctx.chain.startsWith('U')); // no loops
  if (ctx.table === 'nat') {
    const v6 = ctx.family === 6;
    if (ctx.chain === 'POSTROUTING') return r.pick([[j, 'MASQUERADE'], [j, 'SNAT', '--to-source', v6 ? '2001:db8::1' : '192.0.2.1'], [j, 'ACCEPT'], []]);
    if (ctx.chain === 'PREROUTING' || ctx.chain === 'OUTPUT') return r.pick([[j, 'DNAT', '--to-destination', v6 ? '2001:db8::5' : '10.0.0.5'], [j, 'REDIRECT'], [j, 'RETURN'], []]);
    return r.pick([[j, 'ACCEPT'], [j, 'RETURN'], []]);
  }
  if (ctx.table === 'mangle') return r.pick([[j, 'MARK', '--set-mark', String(r.int(1, 99))], [j, 'CONNMARK', '--save-mark'], [j, 'ACCEPT'], []]);
  if (k < 5) return [j, 'ACCEPT'];
  if (k < 8) return [j, 'DROP'];
  if (k < 10) {
    const types = ctx.family === 4 ? ['icmp-port-unreachable', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'port-unreach'] : ['icmp6-adm-prohibited', 'icmp6-port-unreachable', 'no-route'];
    if (isTcp && r.chance(0.4)) return [j, 'REJECT', '--reject-with', 'tcp-reset'];
    return r.chance(0.5) ? [j, 'REJECT'] : [j, 'REJECT', '--reject-with', r.pick(types)];
  }
  if (k < 12 && users.length > 0) return [r.chance(0.8) ? j : L(ctx, '-g', '--goto'), r.pick(users)];
  if (k === 12) return [j, 'LOG', '--log-prefix', '"fw: "', '--log-level', r.pick(['4', 'info', 'warning', '7'])];
  if (k === 13) return [j, 'NFLOG', '--nflog-group', String(r.int(0, 10))];
  if (k === 14) return [j, 'RETURN'];
  if (k === 15) return [j, 'MARK', '--set-mark', '0x1'];
  if (k === 16) return [];
  return [j, 'ACCEPT'];
}

const BUILTINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

/** A valid ruleset (as far as the generator knows). */
export function generate(r: Rng, family: 4 | 6): string {
  const lines: string[] = [];
  if (r.chance(0.3)) lines.push(`# Generated by ${family === 4 ? 'iptables' : 'ip6tables'}-save v1.8.9 on Mon Jan  1 00:00:00 2024`);
  const tables = r.chance(0.8) ? ['filter'] : r.pick([['filter', 'nat'], ['nat'], ['mangle', 'filter'], ['raw', 'filter']]);
  const counters = r.chance(0.2);
  for (const table of tables) {
    lines.push(`*${table}`);
    for (const b of BUILTINS[table]) if (r.chance(0.9)) lines.push(`:${b} ${table === 'filter' ? r.pick(['ACCEPT', 'DROP']) : 'ACCEPT'} [${r.int(0, 999)}:${r.int(0, 99999)}]`);
    const userChains: string[] = [];
    if (table !== 'raw') for (let i = r.int(0, 3); i > 0; i--) userChains.push(`U${userChains.length}${r.pick(['', '_LOG', '-in'])}`);
    for (const u of userChains) lines.push(`:${u} - [0:0]`);
    const chains = [...BUILTINS[table], ...userChains];
    const n = r.int(1, 12);
    const sizes = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const chain = r.pick(chains);
      const ctx: Ctx = { family, table, chain, userChains, long: r.chance(0.15) };
      const body = table === 'raw' ? ruleBodyRaw(r) : ruleBody(r, ctx);
      const size = sizes.get(chain) ?? 0;
      let head = `-A ${chain}`;
      if (r.chance(0.1)) head = `-I ${chain}${r.chance(0.5) ? ` ${r.int(1, size + 1)}` : ''}`;
      else if (ctx.long) head = `--append ${chain}`;
      sizes.set(chain, size + 1);
      lines.push(`${counters ? `[${r.int(0, 9999)}:${r.int(0, 999999)}] ` : ''}${head} ${body.join(' ')}`.trimEnd());
    }
    if (r.chance(0.05)) lines.push(`-N EXTRA${r.int(0, 9)}`);
    if (table === 'filter' && r.chance(0.05)) lines.push(`-P FORWARD ${r.pick(['ACCEPT', 'DROP'])}`);
    lines.push('COMMIT');
  }
  if (r.chance(0.2)) lines.push('# Completed');
  return `${lines.join('\n')}\n`;
}

function ruleBodyRaw(r: Rng): string[] {
  return r.pick([['-p', 'udp', '--dport', '53', '-j', 'CT', '--notrack'], ['-j', 'NOTRACK'], ['-s', '10.0.0.0/8', '-j', 'ACCEPT'], ['-j', 'TRACE']]);
}

/** Splits a line into words the simple way (generated lines have no tricky quoting). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[0]);
  return out;
}

const BAD_NUMBERS = ['70000', '65536', '256', '33', '129', '300', '-1', '99999999999', '0', '1e3', '0x', '08'];
const BAD_ADDRS4 = ['300.1.1.1', '10.0.0.1/33', '1.2.3.4.5', '::1', '10.0.0.0/255.0.256.0', '1..2.3', '10.0.0.0/', '/24', '10.0.0.1,'];
const BAD_ADDRS6 = ['2001:db8::/129', '1::2::3', '12345::', '10.0.0.1', ':::', 'fe80::1%eth0'];

export interface Mutation { text: string; what: string }

/** Applies one random mutation to a ruleset. */
export function mutate(r: Rng, text: string, family: 4 | 6): Mutation {
  const lines = text.replace(/\n$/, '').split('\n');
  const ruleIdx = lines.map((l, i) => (/^(\[[^\]]*\] )?(-A|-I|--append) /.test(l) ? i : -1)).filter((i) => i >= 0);
  const kind = r.int(0, 10);
  const at = ruleIdx.length > 0 ? r.pick(ruleIdx) : -1;
  const out = (what: string): Mutation => ({ text: `${lines.join('\n')}\n`, what });
  if (at < 0 || kind === 9) {
    // Structural: drop COMMIT, a declaration, or add a junk line.
    const k = r.int(0, 3);
    if (k === 0) { const c = lines.lastIndexOf('COMMIT'); if (c >= 0) lines.splice(c, 1); return out('removed COMMIT'); }
    if (k === 1) { const d = lines.findIndex((l) => /^:U/.test(l)); if (d >= 0) lines.splice(d, 1); return out('removed a chain declaration'); }
    if (k === 2) { lines.splice(r.int(0, lines.length), 0, r.pick(['  ', 'junk', ' # indented comment', 'COMMIT', '*filter', ':X - [0:0]', '-A INPUT -j ACCEPT'])); return out('inserted a line'); }
    lines.splice(r.int(1, lines.length), 0, `:U${r.int(0, 3)} - [0:0]`);
    return out('inserted a chain declaration');
  }
  const w = words(lines[at]);
  const set = (what: string): Mutation => { lines[at] = w.join(' '); return out(what); };
  const idx = r.int(0, w.length - 1);
  switch (kind) {
    case 0: case 1: w.splice(idx, 1); return set(`deleted word ${idx}`);
    case 2: {
      const opts = w.map((x, i) => (x.startsWith('-') && i > 1 ? i : -1)).filter((i) => i >= 0);
      if (opts.length === 0) return set('nothing');
      const o = r.pick(opts);
      let e = o + 1;
      while (e < w.length && !w[e].startsWith('-') && w[e] !== '!') e++;
      w.splice(e, 0, ...w.slice(o, e));
      return set(`duplicated option ${w[o]}`);
    }
    case 3: case 4: {
      const nums = w.map((x, i) => (/\d/.test(x) && i > 1 ? i : -1)).filter((i) => i >= 0);
      if (nums.length === 0) return set('nothing');
      const n = r.pick(nums);
      w[n] = w[n].replace(/\d+/, r.pick(BAD_NUMBERS));
      return set(`corrupted number in word ${n}`);
    }
    case 5: {
      if (idx + 1 < w.length) [w[idx], w[idx + 1]] = [w[idx + 1], w[idx]];
      return set(`swapped words ${idx} and ${idx + 1}`);
    }
    case 6: {
      const a = w.findIndex((x) => x === '-s' || x === '-d' || x === '--source' || x === '--destination');
      const bad = r.pick(family === 4 ? BAD_ADDRS4 : BAD_ADDRS6);
      if (a >= 0 && a + 1 < w.length) w[a + 1] = bad; else w.splice(2, 0, '-s', bad);
      return set(`bad address ${bad}`);
    }
    case 7: {
      const j = w.findIndex((x) => x === '-j' || x === '-g' || x === '--jump');
      const name = r.pick(['NOPE', 'accept', 'U9', 'INPUT', 'Drop', 'LOGGING']);
      if (j >= 0 && j + 1 < w.length) w.splice(j + 1, w.length - j - 1, name); else w.push('-j', name);
      return set(`unknown chain ${name}`);
    }
    case 8: {
      w.splice(idx, 0, r.pick(['!', '-m', '--dport', '-p', 'tcp', '-j', '--syn']));
      return set(`inserted a word at ${idx}`);
    }
    default: {
      const c = w.findIndex((x, i) => i > 0 && /^[A-Z]/.test(x));
      if (c >= 0) w[c] = w[c].toLowerCase();
      return set('lowercased a word');
    }
  }
}
