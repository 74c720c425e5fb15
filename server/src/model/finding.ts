// A finding is what every layer below the features reports: parse errors, lowering problems and
// analysis results alike. The features layer turns findings into LSP diagnostics; the CLI prints them.
import type { Range } from './policy';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** The stable diagnostic codes of DESIGN.md; a code may grow, none is renamed. */
export type FindingCode =
  | 'syntax'
  | 'catch-all-drop'
  | 'lockout'
  | 'shadowed-rule'
  | 'redundant-rule'
  | 'open-to-world'
  | 'cidr-host-bits'
  | 'undefined-reference'
  | 'invalid-value'
  | 'stateless-return-traffic'
  | 'unsupported';

export const DEFAULT_SEVERITY: Record<FindingCode, Severity> = {
  syntax: 'error',
  'catch-all-drop': 'error',
  lockout: 'warning',
  'shadowed-rule': 'warning',
  'redundant-rule': 'hint',
  'open-to-world': 'warning',
  'cidr-host-bits': 'warning',
  'undefined-reference': 'error',
  'invalid-value': 'error',
  'stateless-return-traffic': 'warning',
  unsupported: 'info',
};

export interface RelatedInfo { range: Range; message: string }

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  range: Range;
  related?: RelatedInfo[];
  /** Rendered faded in editors (redundant rules). */
  unnecessary?: boolean;
  /** Machine-readable details for code actions (rule indexes, chain, suggested values). */
  data?: Record<string, unknown>;
}

export function finding(code: FindingCode, message: string, range: Range, extra: Partial<Finding> = {}): Finding {
  return { code, severity: DEFAULT_SEVERITY[code], message, range, ...extra };
}
