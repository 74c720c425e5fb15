// Findings as the command line prints them: compiler-style text, JSON, SARIF 2.1.0.
import type { Finding, Severity } from '../model/finding';

export interface FileFindings {
  file: string;
  findings: Finding[];
}

const RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1, hint: 0 };

export function atOrAbove(s: Severity, threshold: Severity): boolean {
  return RANK[s] >= RANK[threshold];
}

export function formatText(results: FileFindings[], color = false): string {
  const lines: string[] = [];
  const paint = (s: Severity, t: string) => {
    if (!color) return t;
    const code = s === 'error' ? 31 : s === 'warning' ? 33 : 36;
    return `\x1b[${code}m${t}\x1b[0m`;
  };
  const counts = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const { file, findings } of results) {
    for (const f of findings) {
      counts[f.severity]++;
      lines.push(`${file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${paint(f.severity, f.severity)} ${f.code} ${f.message}`);
      for (const r of f.related ?? []) lines.push(`    ${file}:${r.range.start.line + 1}:${r.range.start.character + 1}: note: ${r.message}`);
    }
  }
  const total = counts.error + counts.warning + counts.info + counts.hint;
  lines.push(total === 0 ? `${results.length} file${results.length === 1 ? '' : 's'} checked, no findings`
    : `${results.length} file${results.length === 1 ? '' : 's'} checked: ${counts.error} error(s), ${counts.warning} warning(s), ${counts.info + counts.hint} note(s)`);
  return lines.join('\n') + '\n';
}

export function formatJson(results: FileFindings[]): string {
  const out = results.flatMap(({ file, findings }) => findings.map((f) => ({
    file,
    range: f.range,
    severity: f.severity,
    code: f.code,
    message: f.message,
    ...(f.related?.length ? { related: f.related } : {}),
  })));
  return JSON.stringify(out, null, 2) + '\n';
}

const SARIF_LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'note', hint: 'note' };

const RULE_TEXT: Record<string, string> = {
  syntax: 'The file does not parse.',
  'catch-all-drop': 'A drop that matches every packet reaching it while later rules try to allow traffic, or that leaves no way in.',
  lockout: 'Default-deny input with no way back in for established traffic or remote administration.',
  'shadowed-rule': 'No packet can reach this rule: earlier rules decide all of it, differently.',
  'redundant-rule': 'Removing this rule changes no verdict.',
  'open-to-world': 'Any source address is allowed to a sensitive port, or to all ports.',
  'cidr-host-bits': 'An address with bits set past its prefix length.',
  'undefined-reference': 'A jump, set, variable or group that does not exist.',
  'invalid-value': 'A port, protocol, address or priority out of range.',
  'stateless-return-traffic': 'A stateless ACL allows a request but not its replies.',
  unsupported: 'A match the analysis cannot see into; it is treated conservatively.',
};

export function formatSarif(results: FileFindings[], toolVersion: string): string {
  const codes = [...new Set(results.flatMap((r) => r.findings.map((f) => f.code)))].sort();
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'fwlens',
          fullName: 'Firewall Lens',
          version: toolVersion,
          rules: codes.map((id) => ({ id, shortDescription: { text: RULE_TEXT[id] ?? id } })),
        },
      },
      results: results.flatMap(({ file, findings }) => findings.map((f) => ({
        ruleId: f.code,
        ruleIndex: codes.indexOf(f.code),
        level: SARIF_LEVEL[f.severity],
        message: { text: f.message },
        locations: [location(file, f.range)],
        ...(f.related?.length ? { relatedLocations: f.related.map((r, i) => ({ id: i, ...location(file, r.range), message: { text: r.message } })) } : {}),
      }))),
    }],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}

function location(file: string, range: Finding['range']) {
  // SARIF lines and columns are 1-based.
  return {
    physicalLocation: {
      artifactLocation: { uri: file.split('\\').join('/') },
      region: { startLine: range.start.line + 1, startColumn: range.start.character + 1, endLine: range.end.line + 1, endColumn: range.end.character + 1 },
    },
  };
}
