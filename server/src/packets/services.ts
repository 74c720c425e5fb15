// Names of protocols and well-known ports, for descriptions and hovers (from IANA's registries).

const PROTOCOLS: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah',
  58: 'icmpv6', 89: 'ospf', 103: 'pim', 112: 'vrrp', 132: 'sctp', 136: 'udplite',
};

export function protocolName(n: number): string {
  return PROTOCOLS[n] ?? `protocol ${n}`;
}

export function protocolNumber(name: string): number | undefined {
  const lower = name.toLowerCase();
  if (lower === 'ipv6-icmp' || lower === 'icmp6') return 58;
  for (const [num, n] of Object.entries(PROTOCOLS)) if (n === lower) return Number(num);
  return undefined;
}

const SERVICES: Record<number, string> = {
  20: 'ftp-data', 21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'domain (DNS)', 67: 'bootps (DHCP server)',
  68: 'bootpc (DHCP client)', 69: 'tftp', 80: 'http', 110: 'pop3', 111: 'sunrpc', 123: 'ntp', 135: 'msrpc',
  137: 'netbios-ns', 138: 'netbios-dgm', 139: 'netbios-ssn', 143: 'imap', 161: 'snmp', 162: 'snmptrap', 179: 'bgp',
  389: 'ldap', 443: 'https', 445: 'microsoft-ds (SMB)', 465: 'smtps', 500: 'isakmp (IKE)', 514: 'syslog',
  587: 'submission', 631: 'ipp', 636: 'ldaps', 853: 'domain-s (DNS over TLS)', 873: 'rsync', 993: 'imaps',
  995: 'pop3s', 1194: 'openvpn', 1433: 'ms-sql-s', 1521: 'oracle', 1883: 'mqtt', 2049: 'nfs', 2375: 'docker (plain)',
  2376: 'docker (TLS)', 2379: 'etcd client', 2380: 'etcd peer', 3306: 'mysql', 3389: 'ms-wbt-server (RDP)',
  4500: 'ipsec-nat-t', 5060: 'sip', 5432: 'postgresql', 5672: 'amqp', 5900: 'vnc', 5984: 'couchdb',
  6379: 'redis', 6443: 'kubernetes API', 8080: 'http-alt', 8443: 'https-alt', 9090: 'prometheus',
  9200: 'elasticsearch', 10250: 'kubelet', 11211: 'memcached', 27017: 'mongodb', 51820: 'wireguard',
};

export function serviceName(port: number): string | undefined {
  return SERVICES[port];
}

/** Ports that should not be open to the whole internet (the default for `open-to-world`). */
export const SENSITIVE_PORTS: readonly number[] = [
  22, 23, 135, 139, 445, 1433, 1521, 2375, 2379, 2380, 3306, 3389, 5432, 5900, 5984, 6379, 6443, 9200, 10250, 11211, 27017,
];
