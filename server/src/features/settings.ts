// The `firewallLens.*` settings as a client sends them (workspace/configuration or
// didChangeConfiguration) turned into the engine's Settings. Anything malformed is ignored rather
// than rejected: a typo in settings.json must not stop the diagnostics.
import type { FindingCode, Severity } from '../model/finding';
import { DEFAULT_SEVERITY } from '../model/finding';
import type { Settings } from './document';

/** The configuration section every setting lives under. */
export const SETTINGS_SECTION = 'firewallLens';

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info', 'hint'];

/**
 * Reads the `firewallLens` section:
 * - `disabledCodes`: string[] (codes not reported)
 * - `severityOverrides`: `{ "<code>": "error"|"warning"|"information"|"info"|"hint" }`
 * - `codes`: `{ "<code>": { "enabled": boolean, "severity": ... } }`, the same per code in one object
 *   (for clients that prefer one setting); it wins over the two above where both speak.
 * - `sensitivePorts`: number[] (open-to-world), `adminPorts`: number[] (lockout)
 * - `trustedSources`: string[] (CIDRs the fixes narrow sources to)
 * `trace.server` belongs to the client and is not read here.
 */
export function parseSettings(raw: unknown): Settings {
  if (!raw || typeof raw !== 'object') return { codes: {}, trustedSources: [] };
  const r = raw as Record<string, unknown>;
  const codes: Settings['codes'] = {};
  const entry = (code: string) => (codes[code as FindingCode] ??= {});
  if (Array.isArray(r.disabledCodes)) {
    for (const code of r.disabledCodes) if (typeof code === 'string' && code in DEFAULT_SEVERITY) entry(code).enabled = false;
  }
  if (r.severityOverrides && typeof r.severityOverrides === 'object') {
    for (const [code, sev] of Object.entries(r.severityOverrides as Record<string, unknown>)) {
      const severity = toSeverity(sev);
      if (code in DEFAULT_SEVERITY && severity) entry(code).severity = severity;
    }
  }
  if (r.codes && typeof r.codes === 'object') {
    for (const [code, value] of Object.entries(r.codes as Record<string, unknown>)) {
      if (!(code in DEFAULT_SEVERITY) || !value || typeof value !== 'object') continue;
      const v = value as Record<string, unknown>;
      const e = entry(code);
      if (typeof v.enabled === 'boolean') e.enabled = v.enabled;
      const severity = toSeverity(v.severity);
      if (severity) e.severity = severity;
    }
  }
  return {
    codes,
    sensitivePorts: ports(r.sensitivePorts),
    adminPorts: ports(r.adminPorts),
    trustedSources: Array.isArray(r.trustedSources) ? r.trustedSources.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim()) : [],
  };
}

/** VS Code's settings say "information"; the engine says "info". */
function toSeverity(v: unknown): Severity | undefined {
  if (v === 'information') return 'info';
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v) ? (v as Severity) : undefined;
}

function ports(v: unknown): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  // An empty list is kept: it means "no port is sensitive" (only all-ports openings are reported).
  return v.filter((p): p is number => Number.isInteger(p) && p >= 0 && p <= 65535);
}
