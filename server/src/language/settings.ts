/** Settings that shape the language features; the server reads them from `videoScan.*`. */
import type { TimeStyle } from './time';

/** Every diagnostic code the language service can produce. Stable: users configure them. */
export const DIAGNOSTIC_CODES = [
  'malformed-event',
  'malformed-time',
  'negative-time',
  'reversed-span',
  'empty-span',
  'out-of-range',
  'overlap',
  'unsorted',
  'duplicate-event',
  'empty-description',
  'missing-video',
  'no-video',
  'unreadable-video',
  'untrusted-workspace',
  'unexpected-text',
] as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export type SeverityName = 'error' | 'warning' | 'information' | 'hint' | 'off';

export const DEFAULT_SEVERITIES: Record<DiagnosticCode, SeverityName> = {
  'malformed-event': 'error',
  'malformed-time': 'error',
  'negative-time': 'error',
  'reversed-span': 'error',
  'empty-span': 'warning',
  'out-of-range': 'error',
  overlap: 'warning',
  unsorted: 'information',
  'duplicate-event': 'warning',
  'empty-description': 'warning',
  'missing-video': 'error',
  'no-video': 'information',
  'unreadable-video': 'warning',
  'untrusted-workspace': 'information',
  'unexpected-text': 'warning',
};

export interface VscanSettings {
  /** Seconds a time may exceed the video's duration before `out-of-range` (default 0.1). */
  rangeTolerance: number;
  /** Seconds two spans may overlap before `overlap` (default 0: touching spans never do). */
  overlapTolerance: number;
  /** Per-code severity overrides; `off` silences a code. */
  severity: Partial<Record<DiagnosticCode, SeverityName>>;
  /** How the formatter writes times. */
  timeStyle: TimeStyle;
}

export const DEFAULT_SETTINGS: VscanSettings = {
  rangeTolerance: 0.1,
  overlapTolerance: 0,
  severity: {},
  timeStyle: 'seconds',
};

const SEVERITY_NAMES: readonly SeverityName[] = ['error', 'warning', 'information', 'hint', 'off'];

function finiteNonNegative(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/**
 * Reads settings from untrusted JSON (a client's configuration, CLI flags), keeping the
 * defaults for anything missing or invalid.
 */
export function normalizeSettings(raw: unknown): VscanSettings {
  const input = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const severity: VscanSettings['severity'] = {};
  if (input.severity && typeof input.severity === 'object') {
    for (const [code, level] of Object.entries(input.severity as Record<string, unknown>)) {
      if ((DIAGNOSTIC_CODES as readonly string[]).includes(code) && SEVERITY_NAMES.includes(level as SeverityName)) {
        severity[code as DiagnosticCode] = level as SeverityName;
      }
    }
  }
  return {
    rangeTolerance: finiteNonNegative(input.rangeTolerance, DEFAULT_SETTINGS.rangeTolerance),
    overlapTolerance: finiteNonNegative(input.overlapTolerance, DEFAULT_SETTINGS.overlapTolerance),
    severity,
    timeStyle: input.timeStyle === 'clock' ? 'clock' : 'seconds',
  };
}
