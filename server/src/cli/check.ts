/** `vscan check` and `vscan format`: the language service from the command line. */
import { readRegularFile } from '../io/regularFile';
import { resolve } from 'node:path';
import type { Diagnostic } from 'vscode-languageserver-types';
import { formatVscanText, parseVscan, validateVscan, type VscanSettings } from '../language';
import { ProbeCache } from '../video/probe';
import { resolveDocumentContext } from '../workspace/videoContext';
import { writeFileAtomic } from '../workspace/atomicWrite';
import { expandPaths, isVscanName } from './files';
import { UsageError } from './usage';

const SEVERITY_NAMES = ['error', 'warning', 'information', 'hint'] as const;

/** One diagnostic as `vscan check --json` prints it. */
export interface CliDiagnostic {
  file: string;
  range: Diagnostic['range'];
  severity: (typeof SEVERITY_NAMES)[number];
  code: string;
  message: string;
}

/** Larger .vscan files are refused (a JavaScript string holds at most about 512 M characters). */
const MAX_VSCAN_BYTES = 256 * 1024 * 1024;

/** Reads a .vscan file as the editor would show it: UTF-8, without a byte-order mark. */
export async function readVscan(file: string): Promise<string> {
  // A FIFO named like a .vscan would block a plain read forever; a regular file is required.
  const bytes = await readRegularFile(file, MAX_VSCAN_BYTES, (message) => new UsageError(message));
  if (!bytes) throw new UsageError(`${file}: cannot read (ENOENT)`);
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function checkFiles(paths: string[], settings: VscanSettings, ffprobePath?: string): Promise<CliDiagnostic[]> {
  const probes = new ProbeCache({ ffprobePath });
  const out: CliDiagnostic[] = [];
  for (const file of await expandPaths(paths, isVscanName)) {
    const doc = parseVscan(await readVscan(file));
    const { context } = await resolveDocumentContext(doc, resolve(file), { probes, probeWaitMs: Infinity });
    for (const d of validateVscan(doc, context, settings)) {
      out.push({ file, range: d.range, severity: SEVERITY_NAMES[(d.severity ?? 1) - 1], code: String(d.code), message: typeof d.message === 'string' ? d.message : d.message.value });
    }
  }
  return out;
}

export function renderDiagnostic(d: CliDiagnostic): string {
  return `${d.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${d.message}`;
}

/** Formats a file; returns whether it changed. */
export async function formatFile(file: string, settings: VscanSettings, write: boolean): Promise<{ text: string; changed: boolean }> {
  const original = await readVscan(file);
  const text = formatVscanText(parseVscan(original), settings);
  const changed = text !== original;
  if (write && changed) await writeFileAtomic(file, text);
  return { text, changed };
}
