#!/usr/bin/env python3
"""Kernel side of the iptables differential suite (test/kernel/iptables.test.ts).

Two private network namespaces joined by veth pairs:

    sender ns (S)                         receiver ns (R)
    s0 <------------------------------->  eth0      (names chosen by the caller)
    s1 <------------------------------->  veth0
    ...

The ruleset under test is loaded into R with iptables-restore / ip6tables-restore. Packets are
whole Ethernet frames written with AF_PACKET sockets onto the S end of a pair, so any source
address, port, protocol, TCP flag or ICMP type can be sent; R owns whole destination ranges through
`local` routes (AnyIP), so every test packet is delivered locally and walks R's INPUT chain.

Which rule decided: before and after each packet `iptables-save -c` is read; the per-rule packet
counters (and the chain policy counters, which nf_tables bumps only when the policy applies) that
moved are the packet's path.

Connection states are made for real, never assumed:
  NEW          a first packet (TCP SYN, UDP, ICMP echo/timestamp/info/mask request, ESP) after the
               conntrack table was flushed (netlink, IPCTNL_MSG_CT_DELETE without a tuple).
  ESTABLISHED  R first sends the opposite packet itself (raw socket, goes out through OUTPUT):
               TCP SYN / UDP / ICMP echo request / ESP from dst to src; the test packet is the
               reply (TCP SYN+ACK acknowledging R's SYN, UDP, ICMP echo reply, ESP).
  RELATED      R first sends a UDP packet to some host; the test packet is an ICMP error
               (destination unreachable, time exceeded, parameter problem; ICMPv6 types 1-4)
               quoting R's packet.
  INVALID      TCP with SYN+FIN set; UDP with a wrong checksum; ICMP types conntrack cannot open
               a connection with (an unsolicited echo reply, an ICMP error quoting no known flow).

Usage (all as root):
  netns_driver.py setup R S IF0 [IF1 ...]     create the namespaces and interfaces, print JSON
  netns_driver.py teardown R S                delete them (missing ones are fine)
  netns_driver.py run < job.json              load a ruleset into R, send the packets, print JSON
  netns_driver.py check                       exit 0 when this machine can run the suite
  netns_driver.py run-nft < job.json          the same for an nftables ruleset (nft -f), see run_nft
  netns_driver.py check-nft                   exit 0 when this machine can run the nftables suite
"""
import ctypes
import fcntl
import ipaddress
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

# Destination ranges R treats as its own (AnyIP); test packet destinations must lie inside, test
# packet sources outside. Keep in sync with LOCAL_V4 / LOCAL_V6 in generate.ts.
LOCAL_V4 = ['10.0.0.0/8', '100.64.0.0/10']
LOCAL_V6 = ['2001:db8::/32']
GW_V4 = '169.254.77.1'
GW_V6 = 'fe80::77:1'


def sh(*args, check=True, input=None):
    r = subprocess.run(list(args), input=input, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def setns(name):
    fd = os.open(f'/run/netns/{name}', os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f'setns {name}: {os.strerror(e)}')
    finally:
        os.close(fd)


def write_sysctl(path, value):
    # /proc/sys/net is the view of the calling thread's network namespace.
    try:
        with open('/proc/sys/' + path.replace('.', '/'), 'w') as f:
            f.write(str(value))
        return True
    except OSError:
        return False


def hwaddr(ifname):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        info = fcntl.ioctl(s.fileno(), 0x8927, struct.pack('256s', ifname.encode()[:15]))  # SIOCGIFHWADDR
        return info[18:24]
    finally:
        s.close()


# ----------------------------------------------------------------------------------------------
# setup / teardown

def setup(recv, send, ifnames):
    teardown(recv, send)
    sh('ip', 'netns', 'add', recv)
    sh('ip', 'netns', 'add', send)
    try:
        me = os.open('/proc/self/ns/net', os.O_RDONLY)
        # The sender must stay silent: no IPv6 (no router solicitations, DAD, MLD), no IPv4 address.
        setns(send)
        for k in ('all', 'default'):
            write_sysctl(f'net.ipv6.conf.{k}.disable_ipv6', 1)
        setns(recv)
        for k in ('all', 'default'):
            write_sysctl(f'net.ipv4.conf.{k}.rp_filter', 0)
            write_sysctl(f'net.ipv6.conf.{k}.accept_dad', 0)
            write_sysctl(f'net.ipv6.conf.{k}.dad_transmits', 0)
            write_sysctl(f'net.ipv6.conf.{k}.accept_ra', 0)
            write_sysctl(f'net.ipv6.conf.{k}.router_solicitations', 0)
        _libc.setns(me, CLONE_NEWNET)
        os.close(me)
        for i, name in enumerate(ifnames):
            sh('ip', '-n', send, 'link', 'add', f's{i}', 'type', 'veth', 'peer', 'name', name, 'netns', recv)
            sh('ip', '-n', send, 'link', 'set', f's{i}', 'up')
            sh('ip', '-n', recv, 'link', 'set', name, 'up')
        sh('ip', '-n', recv, 'link', 'set', 'lo', 'up')
        sh('ip', '-n', send, 'link', 'set', 'lo', 'up')
        for p in LOCAL_V4:
            sh('ip', '-n', recv, 'route', 'add', 'local', p, 'dev', 'lo')
        for p in LOCAL_V6:
            sh('ip', '-n', recv, '-6', 'route', 'add', 'local', p, 'dev', 'lo')
        # R's own packets (replies, the openers of ESTABLISHED/RELATED flows) leave by the first
        # interface to a gateway with a fixed neighbour entry: no ARP/ND, nothing comes back.
        first = ifnames[0]
        me = os.open('/proc/self/ns/net', os.O_RDONLY)
        setns(send)
        peer_mac = hwaddr('s0')
        setns(recv)
        for name in ifnames:
            write_sysctl(f'net.ipv4.conf.{name}.rp_filter', 0)
        _libc.setns(me, CLONE_NEWNET)
        os.close(me)
        mac = ':'.join(f'{b:02x}' for b in peer_mac)
        sh('ip', '-n', recv, 'neigh', 'replace', GW_V4, 'lladdr', mac, 'dev', first, 'nud', 'permanent')
        sh('ip', '-n', recv, 'route', 'add', 'default', 'via', GW_V4, 'dev', first, 'onlink')
        sh('ip', '-n', recv, '-6', 'neigh', 'replace', GW_V6, 'lladdr', mac, 'dev', first, 'nud', 'permanent')
        sh('ip', '-n', recv, '-6', 'route', 'add', 'default', 'via', GW_V6, 'dev', first)
    except Exception:
        teardown(recv, send)
        raise
    return {'recv': recv, 'send': send, 'ifaces': ifnames}


def teardown(recv, send):
    for ns in (recv, send):
        if os.path.exists(f'/run/netns/{ns}'):
            sh('ip', 'netns', 'del', ns, check=False)


# ----------------------------------------------------------------------------------------------
# packet crafting

def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def pseudo(family, src, dst, proto, length):
    if family == 4:
        return socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, dst) + struct.pack('!BBH', 0, proto, length)
    return socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack('!IxxxB', length, proto)


def ip_packet(family, src, dst, proto, payload, ttl=64):
    if family == 4:
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), random.randrange(1, 65535), 0x4000, ttl, proto, 0,
                          socket.inet_pton(socket.AF_INET, src), socket.inet_pton(socket.AF_INET, dst))
        hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
        return hdr + payload
    hdr = struct.pack('!IHBB16s16s', 0x60000000, len(payload), proto, ttl,
                      socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst))
    return hdr + payload


TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 1, 2, 4, 8, 16


def tcp_segment(family, src, dst, sport, dport, seq, ack, flags):
    seg = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    c = csum(pseudo(family, src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack('!H', c) + seg[18:]


def udp_datagram(family, src, dst, sport, dport, data=b'fwlens', bad_checksum=False):
    d = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    c = csum(pseudo(family, src, dst, 17, len(d)) + d)
    if c == 0:
        c = 0xffff
    if bad_checksum:
        c = (c ^ 0x5a5a) or 1
    return d[:6] + struct.pack('!H', c) + d[8:]


def icmp_message(family, src, dst, typ, code, rest, data):
    m = struct.pack('!BBH', typ, code, 0) + rest + data
    if family == 4:
        c = csum(m)
    else:
        c = csum(pseudo(family, src, dst, 58, len(m)) + m)
    return m[:2] + struct.pack('!H', c) + m[4:]


ICMP_PROTO = {4: 1, 6: 58}
ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}


def is_icmp_error(family, typ):
    return typ in (3, 4, 5, 11, 12) if family == 4 else typ < 128


# ----------------------------------------------------------------------------------------------
# conntrack

def conntrack_flush(family):
    """IPCTNL_MSG_CT_DELETE without attributes: flush the family's conntrack table."""
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    except OSError:
        return False
    try:
        af = socket.AF_INET if family == 4 else socket.AF_INET6
        payload = struct.pack('=BBH', af, 0, 0)
        msg = struct.pack('=IHHII', 16 + len(payload), (1 << 8) | 2, 1 | 4, 1, 0) + payload
        s.send(msg)
        resp = s.recv(4096)
        if len(resp) >= 20:
            err = struct.unpack('=i', resp[16:20])[0]
            return err == 0 or err == -2
        return False
    finally:
        s.close()


# ----------------------------------------------------------------------------------------------
# counters

SAVE_RULE = re.compile(r'^\[(\d+):(\d+)\] -A (\S+) (.*)$')
SAVE_CHAIN = re.compile(r'^:(\S+) (\S+) \[(\d+):(\d+)\]')
TARGET = re.compile(r'(?:^| )-[jg] (\S+)')


def is_terminal(rule):
    # The last -j/-g is the target (a comment, which iptables-save writes before it, may say "-j DROP").
    targets = TARGET.findall(rule)
    return bool(targets) and targets[-1] in ('ACCEPT', 'DROP', 'REJECT')


def read_counters(family):
    out = sh('iptables-save' if family == 4 else 'ip6tables-save', '-c', '-t', 'filter').stdout
    rules, policies, terminal = {}, {}, {}
    for line in out.splitlines():
        m = SAVE_CHAIN.match(line)
        if m:
            rules.setdefault(m.group(1), [])
            if m.group(2) != '-':
                policies[m.group(1)] = int(m.group(3))
            continue
        m = SAVE_RULE.match(line)
        if m:
            chain = m.group(3)
            rules.setdefault(chain, []).append(int(m.group(1)))
            terminal.setdefault(chain, []).append(is_terminal(m.group(4)))
    return {'rules': rules, 'policies': policies, 'terminal': terminal, 'text': out}


def delta(before, after):
    hits = []
    for chain, counts in after['rules'].items():
        if chain in ('OUTPUT', 'FORWARD'):
            continue
        old = before['rules'].get(chain, [])
        for i, n in enumerate(counts):
            d = n - (old[i] if i < len(old) else 0)
            if d:
                hits.append([chain, i, d])
    pol = {}
    for chain, n in after['policies'].items():
        if chain != 'INPUT':
            continue  # OUTPUT moves with R's own packets; FORWARD never
        d = n - before['policies'].get(chain, 0)
        if d:
            pol[chain] = d
    return hits, pol


def complete(after, hits, pol):
    # A packet's walk ends with exactly one terminal rule or one policy; both counters move last.
    return bool(pol) or any(after['terminal'][c][i] for c, i, _ in hits)


# ----------------------------------------------------------------------------------------------
# one packet

class Sender:
    def __init__(self, send_ns, recv_ns, ifaces, family):
        self.family = family
        self.out = {}
        setns(send_ns)
        for i, name in enumerate(ifaces):
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # protocol 0: send only
            s.bind((f's{i}', 0))
            self.out[name] = (s, hwaddr(f's{i}'))
        setns(recv_ns)
        self.dst_mac = {name: hwaddr(name) for name in ifaces}
        af = socket.AF_INET if family == 4 else socket.AF_INET6
        self.raw = socket.socket(af, socket.SOCK_RAW, socket.IPPROTO_RAW)  # header included

    def frame(self, iface, packet):
        s, mac = self.out[iface]
        ethertype = 0x0800 if self.family == 4 else 0x86DD
        s.send(self.dst_mac[iface] + mac + struct.pack('!H', ethertype) + packet)

    def from_receiver(self, packet, dst):
        """R sends a whole IP packet of its own (through OUTPUT and conntrack)."""
        self.raw.sendto(packet, (dst, 0))


def build(sender, w):
    """The receiver-side opener (or None) and the test packet for one wire description."""
    fam, src, dst, proto, state = w['family'], w['src'], w['dst'], w['proto'], w['state']
    opener = None
    rnd = random.Random(w.get('seed', 0))
    if proto == 6:
        sport, dport = w['sport'], w['dport']
        if state == 'ESTABLISHED':
            isn = rnd.randrange(1, 2 ** 32)
            opener = ip_packet(fam, dst, src, 6, tcp_segment(fam, dst, src, dport, sport, isn, 0, TCP_SYN))
            seg = tcp_segment(fam, src, dst, sport, dport, rnd.randrange(1, 2 ** 32), (isn + 1) % 2 ** 32, TCP_SYN | TCP_ACK)
        elif state == 'INVALID':
            seg = tcp_segment(fam, src, dst, sport, dport, rnd.randrange(1, 2 ** 32), 0, TCP_SYN | TCP_FIN)
        elif state == 'NEW':
            seg = tcp_segment(fam, src, dst, sport, dport, rnd.randrange(1, 2 ** 32), 0, TCP_SYN)
        else:
            raise ValueError(f'no {state} tcp packet')
        return opener, ip_packet(fam, src, dst, 6, seg)
    if proto == 17:
        sport, dport = w['sport'], w['dport']
        if state == 'ESTABLISHED':
            opener = ip_packet(fam, dst, src, 17, udp_datagram(fam, dst, src, dport, sport))
        elif state not in ('NEW', 'INVALID'):
            raise ValueError(f'no {state} udp packet')
        return opener, ip_packet(fam, src, dst, 17, udp_datagram(fam, src, dst, sport, dport, bad_checksum=state == 'INVALID'))
    if proto == ICMP_PROTO[fam]:
        typ, code = w['icmpType'], w['icmpCode']
        ident, seq = rnd.randrange(1, 65535), rnd.randrange(1, 65535)
        rest, data = struct.pack('!HH', ident, seq), b'fwlens-probe-payload'
        if state == 'ESTABLISHED':
            if typ != ECHO_REPLY[fam]:
                raise ValueError('an ESTABLISHED icmp packet is an echo reply')
            opener = ip_packet(fam, dst, src, proto, icmp_message(fam, dst, src, ECHO_REQUEST[fam], 0, rest, data))
        elif state == 'RELATED' or (state == 'INVALID' and is_icmp_error(fam, typ)):
            if not is_icmp_error(fam, typ):
                raise ValueError('a RELATED icmp packet is an error message')
            # The quoted packet: R's own UDP datagram to some host (src here, any would do).
            peer_port, own_port = rnd.randrange(1024, 65535), rnd.randrange(1024, 65535)
            quoted = ip_packet(fam, dst, src, 17, udp_datagram(fam, dst, src, own_port, peer_port))
            if state == 'RELATED':
                opener = quoted
            hdr_len = 20 if fam == 4 else 40
            data = quoted[:hdr_len + 8]
            rest = b'\0\0\0\0' if not (fam == 4 and typ == 12) else b'\x14\0\0\0'
            if fam == 6 and typ == 2:
                rest = struct.pack('!I', 1280)
        return opener, ip_packet(fam, src, dst, proto, icmp_message(fam, src, dst, typ, code, rest, data))
    # Any other protocol (ESP in the generated rulesets): generic conntrack, addresses only.
    payload = struct.pack('!II', rnd.randrange(1, 2 ** 32), 1) + b'\0' * 16
    if state == 'ESTABLISHED':
        opener = ip_packet(fam, dst, src, proto, payload)
    elif state != 'NEW':
        raise ValueError(f'no {state} packet of protocol {proto}')
    return opener, ip_packet(fam, src, dst, proto, payload)


def run_packet(sender, w, before):
    fam = w['family']
    opener, packet = build(sender, w)
    conntrack_flush(fam)
    if opener is not None:
        sender.from_receiver(opener, w['src'])
    sender.frame(w['in'], packet)
    after = read_counters(fam)
    hits, pol = delta(before, after)
    tries = 0
    while not complete(after, hits, pol) and tries < 60:
        time.sleep(0.002 * (1 + tries // 10))
        after = read_counters(fam)
        hits, pol = delta(before, after)
        tries += 1
    return after, hits, pol, complete(after, hits, pol)


def run(job):
    fam = job['family']
    setns(job['recv'])
    exe = 'iptables-restore' if fam == 4 else 'ip6tables-restore'
    r = sh(exe, check=False, input=job['rules'])
    if r.returncode != 0:
        return {'loadError': r.stderr.strip() or f'{exe} exit {r.returncode}'}
    # After the load: the conntrack sysctls exist once a rule uses conntrack.
    write_sysctl('net.netfilter.nf_conntrack_tcp_be_liberal', 1)
    sender = Sender(job['send'], job['recv'], job['ifaces'], fam)
    before = read_counters(fam)
    loaded = {c: len(v) for c, v in before['rules'].items()}
    results = []
    for w in job['packets']:
        attempts = []
        for attempt in range(3):
            after, hits, pol, done = run_packet(sender, w, before)
            before = after
            # One packet's worth: exactly one terminal rule or the policy counted once. (Other
            # counters may move twice: a chain jumped to twice runs twice.)
            decided = sum(d for c, i, d in hits if after['terminal'][c][i]) + sum(pol.values())
            clean = done and decided == 1
            attempts.append({'hits': hits, 'policies': pol, 'complete': done})
            if clean:
                break
        res = {'hits': hits, 'policies': pol, 'complete': done, 'clean': clean}
        if len(attempts) > 1:
            res['attempts'] = attempts
        results.append(res)
    return {'loaded': loaded, 'results': results, 'saved': before['text']}


def check():
    missing = [t for t in ('ip', 'iptables-restore', 'iptables-save', 'ip6tables-restore', 'ip6tables-save')
               if not any(os.access(os.path.join(d, t), os.X_OK) for d in os.environ.get('PATH', '').split(':') + ['/usr/sbin', '/sbin'])]
    if os.geteuid() != 0:
        return 'not root'
    if missing:
        return 'missing ' + ', '.join(missing)
    if not hasattr(socket, 'AF_PACKET'):
        return 'no AF_PACKET sockets'
    return None


# ----------------------------------------------------------------------------------------------
# nftables (test/kernel/nftables.test.ts): the same namespaces, sender and connection states; the
# ruleset is loaded with `nft -f` and read back with `nft -j list ruleset`. Every counter is named
# by the comment of its rule ("r12", "fwlk-tail-…", "fwlk-last", …) or, for the per-element
# counters of a verdict map declared with the `counter` flag, "@family/table/map#key" with key
# "22" or "23-25".

def _elem_key(val):
    if isinstance(val, dict) and 'range' in val:
        return f"{val['range'][0]}-{val['range'][1]}"
    if isinstance(val, dict) and 'prefix' in val:
        return f"{val['prefix']['addr']}/{val['prefix']['len']}"
    return str(val)


def read_nft_counters():
    out = sh('nft', '-j', 'list', 'ruleset').stdout
    counts = {}
    for obj in json.loads(out).get('nftables', []):
        rule = obj.get('rule')
        if rule is not None:
            key = rule.get('comment')
            if key is None:
                continue
            for e in rule.get('expr', []):
                c = e.get('counter') if isinstance(e, dict) else None
                if isinstance(c, dict):
                    counts[key] = counts.get(key, 0) + c.get('packets', 0)
            continue
        m = obj.get('map') or obj.get('set')
        if m is not None:
            for el in m.get('elem', []) or []:
                k = el[0] if isinstance(el, list) else el
                if isinstance(k, dict) and 'elem' in k:
                    c = k['elem'].get('counter')
                    if isinstance(c, dict):
                        key = f"@{m['family']}/{m['table']}/{m['name']}#{_elem_key(k['elem'].get('val'))}"
                        counts[key] = counts.get(key, 0) + c.get('packets', 0)
    return counts


def nft_delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def run_nft_packet(senders, w, before, finals):
    fam = w['family']
    sender = senders[fam]
    opener, packet = build(sender, w)
    conntrack_flush(fam)
    if opener is not None:
        sender.from_receiver(opener, w['src'])
    sender.frame(w['in'], packet)
    # Done when a final counter moved, or once the packet was seen on the hook (fwlk-first) and the
    # counters then stay still (a policy reached through `goto` has no counter of its own).
    after = read_nft_counters()
    hits = nft_delta(before, after)
    tries = 0
    while tries < 60:
        if any(k in finals for k in hits):
            break
        time.sleep(0.002 * (1 + tries // 10))
        again = read_nft_counters()
        if 'fwlk-first' in hits and again == after:
            break
        after = again
        hits = nft_delta(before, after)
        tries += 1
    return after, hits


def run_nft(job):
    """job: {recv, send, ifaces, rules (text for nft -f), finals: [counter names], packets: [...]}.
    A packet's walk ends at most once in one of the `finals` counters (a drop or reject, a
    policy-drop chain's tail, or the observer chain after every generated base chain); a policy
    reached through `goto` has none, so the counters' reader (nftables-model.ts) checks the rest."""
    setns(job['recv'])
    sh('nft', 'flush', 'ruleset', check=False)
    r = sh('nft', '-f', '-', check=False, input=job['rules'])
    if r.returncode != 0:
        return {'loadError': r.stderr.strip() or f'nft -f exit {r.returncode}'}
    write_sysctl('net.netfilter.nf_conntrack_tcp_be_liberal', 1)
    finals = set(job['finals'])
    families = sorted({w['family'] for w in job['packets']})
    senders = {f: Sender(job['send'], job['recv'], job['ifaces'], f) for f in families}
    before = read_nft_counters()
    results = []
    for w in job['packets']:
        attempts = []
        for attempt in range(3):
            after, hits = run_nft_packet(senders, w, before, finals)
            before = after
            decided = sum(n for k, n in hits.items() if k in finals)
            clean = decided <= 1 and hits.get('fwlk-first') == 1
            attempts.append(hits)
            if clean:
                break
        res = {'hits': hits, 'clean': clean}
        if len(attempts) > 1:
            res['attempts'] = attempts
        results.append(res)
    saved = sh('nft', 'list', 'ruleset', check=False).stdout
    sh('nft', 'flush', 'ruleset', check=False)
    return {'results': results, 'saved': saved}


def check_nft():
    if os.geteuid() != 0:
        return 'not root'
    missing = [t for t in ('ip', 'nft')
               if not any(os.access(os.path.join(d, t), os.X_OK) for d in os.environ.get('PATH', '').split(':') + ['/usr/sbin', '/sbin'])]
    if missing:
        return 'missing ' + ', '.join(missing)
    if not hasattr(socket, 'AF_PACKET'):
        return 'no AF_PACKET sockets'
    return None


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ''
    if cmd == 'setup':
        print(json.dumps(setup(sys.argv[2], sys.argv[3], sys.argv[4:])))
    elif cmd == 'teardown':
        teardown(sys.argv[2], sys.argv[3])
    elif cmd == 'run':
        print(json.dumps(run(json.load(sys.stdin))))
    elif cmd == 'run-nft':
        print(json.dumps(run_nft(json.load(sys.stdin))))
    elif cmd in ('check', 'check-nft'):
        why = check() if cmd == 'check' else check_nft()
        if why:
            print(why)
            sys.exit(1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
