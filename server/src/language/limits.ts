/**
 * Per-document caps on what the server sends, so that no file, however large, makes a
 * response grow without bound: a 50 MB `.vscan` would otherwise push millions of
 * diagnostics and document links (gigabytes of JSON) to the editor on every keystroke.
 */
import { type Diagnostic, DiagnosticSeverity } from 'vscode-languageserver-types';
import { DIAGNOSTIC_SOURCE } from './diagnostics';

/** Diagnostics published per document; the rest are counted in one summary diagnostic. */
export const MAX_DIAGNOSTICS = 1000;
/** Document links (seek links on times) answered per document. */
export const MAX_DOCUMENT_LINKS = 5000;
/** Above this many UTF-16 code units a `.vscan` is validated on open and save, not per keystroke. */
export const LARGE_DOCUMENT_CHARS = 2_000_000;

/** The code of the summary diagnostics below (not configurable: they are about the editor, not the file). */
export const LIMIT_CODE = 'limit';

/**
 * The first `max` diagnostics (in reading order) and, when some are left out, one
 * information diagnostic on the first line saying how many and where to see them all.
 */
export function capDiagnostics(diagnostics: Diagnostic[], max = MAX_DIAGNOSTICS): Diagnostic[] {
  if (diagnostics.length <= max) return diagnostics;
  const hidden = diagnostics.length - max;
  const kept = diagnostics.slice(0, max);
  kept.push({
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    code: LIMIT_CODE,
    source: DIAGNOSTIC_SOURCE,
    message: `${hidden.toLocaleString('en-US')} more problems are not shown (the editor shows the first ${max.toLocaleString('en-US')}); run \`vscan check\` on this file to list them all`,
  });
  return kept;
}

/** The diagnostic a large document carries while it is being edited: problems are refreshed on save. */
export function largeDocumentNotice(chars: number): Diagnostic {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    code: LIMIT_CODE,
    source: DIAGNOSTIC_SOURCE,
    message: `This file is large (${(chars / 1e6).toFixed(1)} M characters, above ${LARGE_DOCUMENT_CHARS / 1e6} M): its problems are checked when it is opened or saved, not as you type`,
  };
}
