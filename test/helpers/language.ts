/** Helpers for testing the pure language service with in-memory inputs. */
import type { Diagnostic } from 'vscode-languageserver-types';
import {
  DEFAULT_SETTINGS,
  type DocumentContext,
  type LinkedVideo,
  parseVscan,
  validateVscan,
  type VscanSettings,
} from '../../server/src/language';

export const URI = 'file:///work/clip.vscan';

/** A linked video that exists, with a known duration. */
export function video(durationSec: number, explicit = true): LinkedVideo {
  return { path: '/work/clip.mp4', uri: 'file:///work/clip.mp4', explicit, exists: true, durationSec };
}

export function diagnose(text: string, context: DocumentContext = { video: video(60) }, settings: Partial<VscanSettings> = {}): Diagnostic[] {
  return validateVscan(parseVscan(text), context, { ...DEFAULT_SETTINGS, ...settings }, URI);
}

/** `code@line:char` for compact assertions (1-based line like an editor shows). */
export function codes(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.code}@${d.range.start.line + 1}:${d.range.start.character}`);
}

/** Applies LSP text edits (non-overlapping) to a text. */
export function applyEdits(text: string, edits: { range: Diagnostic['range']; newText: string }[]): string {
  const lines = text.split(/\r\n|\r|\n/);
  const offsets: number[] = [];
  let offset = 0;
  const eols = text.match(/\r\n|\r|\n/g) ?? [];
  lines.forEach((line, i) => {
    offsets.push(offset);
    offset += line.length + (eols[i]?.length ?? 0);
  });
  const at = (p: { line: number; character: number }) => (offsets[p.line] ?? text.length) + p.character;
  const sorted = [...edits].sort((a, b) => at(b.range.start) - at(a.range.start));
  let out = text;
  for (const edit of sorted) out = out.slice(0, at(edit.range.start)) + edit.newText + out.slice(at(edit.range.end));
  return out;
}
