// A large, realistic iptables-save ruleset for the benchmarks: per-host and per-network allows,
// a few user chains, conntrack first, a default deny at the end. Deterministic (seeded).
export function generateRules(count: number, seed = 1): string {
  let s = seed >>> 0;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const ports = [22, 25, 53, 80, 110, 143, 443, 993, 3306, 5432, 6379, 8080, 8443, 9090, 9200];
  const lines = [
    '# generated benchmark ruleset',
    '*filter',
    ':INPUT DROP [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':WEB - [0:0]',
    ':ADMIN - [0:0]',
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A INPUT -p tcp -m multiport --dports 80,443 -j WEB',
    '-A INPUT -p tcp --dport 22 -j ADMIN',
  ];
  const body: string[] = [];
  for (let i = 0; body.length < count - 4; i++) {
    const a = 10 + rnd(200);
    const b = rnd(256);
    const c = rnd(256);
    const kind = rnd(10);
    const port = ports[rnd(ports.length)];
    const chain = kind === 0 ? 'WEB' : kind === 1 ? 'ADMIN' : 'INPUT';
    const src = kind < 5 ? `${a}.${b}.${c}.0/24` : kind < 8 ? `${a}.${b}.${c}.${1 + rnd(254)}/32` : `${a}.${b}.0.0/16`;
    const verdict = rnd(8) === 0 ? 'DROP' : 'ACCEPT';
    const proto = rnd(4) === 0 ? 'udp' : 'tcp';
    body.push(`-A ${chain} -s ${src} -p ${proto} -m ${proto} --dport ${port} -j ${verdict}`);
  }
  lines.push(...body, '-A WEB -j ACCEPT', '-A ADMIN -j RETURN', '-A INPUT -j DROP', 'COMMIT', '');
  return lines.join('\n');
}
