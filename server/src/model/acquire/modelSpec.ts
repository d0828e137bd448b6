/**
 * What a model setting or `--model` names: a checkpoint folder on this machine, or a
 * Hugging Face Hub repo (`owner/name`, optionally `@revision`). A folder that exists wins,
 * as transformers' `from_pretrained` lets a local folder shadow a repo id.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';

/** The video-scan checkpoint on the Hub; the default of `videoScan.model.checkpoint`. */
export const DEFAULT_MODEL = 'cudabenchmarktest/video-scan';

/** A parsed model spec. */
export type ModelSpec =
  | { kind: 'folder'; spec: string; dir: string }
  | { kind: 'hub'; spec: string; repo: string; revision: string };

// The Hub's own rules: owner and name of letters, digits, `-`, `_`, `.`; no `--` or `..`
// (both would be ambiguous in the cache's `models--owner--name` folder names), at most 96 characters.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
// A branch, tag or commit: git ref characters, no `..`, no leading `/` or `-`.
const REVISION = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,255}$/;

function isRepoPart(part: string): boolean {
  return NAME.test(part) && !part.includes('--') && !part.includes('..') && !part.endsWith('.');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A Hub repo id with optional revision, or undefined when `spec` is not one. */
export function parseHubId(spec: string): { repo: string; revision: string } | undefined {
  const at = spec.indexOf('@');
  const id = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  const parts = id.split('/');
  if (parts.length !== 2 || !parts.every(isRepoPart)) return undefined;
  if (!REVISION.test(revision) || revision.includes('..') || revision.endsWith('/')) return undefined;
  return { repo: id, revision };
}

/**
 * Reads a spec: an existing folder, else a Hub id, else a folder (which fails later, naming
 * itself, when it is opened).
 */
export function parseModelSpec(spec: string): ModelSpec {
  const trimmed = spec.trim();
  if (isDirectory(trimmed)) return { kind: 'folder', spec: trimmed, dir: trimmed };
  const hub = parseHubId(trimmed);
  if (hub) return { kind: 'hub', spec: trimmed, ...hub };
  return { kind: 'folder', spec: trimmed, dir: trimmed };
}

/** The model as a .vscan header names it: a Hub id as given, a folder by its name. */
export function modelLabel(spec: string): string {
  const parsed = parseModelSpec(spec);
  return parsed.kind === 'hub' ? parsed.spec : basename(parsed.dir);
}
