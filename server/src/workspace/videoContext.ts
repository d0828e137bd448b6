/**
 * Gathers a .vscan document's DocumentContext from the file system and ffprobe: which
 * video it links, whether that exists, its duration. Shared by the language server and
 * the CLI so both see the same world.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DocumentContext, findHeader, isVideoFileName, type LinkedVideo, type VscanDocument } from '../language';
import type { ProbeCache } from '../video/probe';

const MAX_SIBLINGS = 50;

async function fileSize(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? { size: info.size, mtimeMs: info.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

async function siblingVideos(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter(isVideoFileName).sort().slice(0, MAX_SIBLINGS);
  } catch {
    return [];
  }
}

export interface ResolvedContext {
  context: DocumentContext;
  /** Set when the probe did not finish within the wait: resolves when it has (success or not). */
  pendingProbe?: Promise<unknown>;
}

export interface ResolveOptions {
  probes: ProbeCache;
  /** How long to wait for a probe before answering without a duration (ms); Infinity waits. */
  probeWaitMs: number;
}

/** The video linked by a document at `documentPath` (an absolute file path). */
export async function resolveDocumentContext(doc: VscanDocument, documentPath: string, options: ResolveOptions): Promise<ResolvedContext> {
  const folder = dirname(documentPath);
  const siblings = await siblingVideos(folder);
  const header = findHeader(doc, 'video');
  let video: LinkedVideo | undefined;
  if (header) {
    const path = header.value ? (isAbsolute(header.value) ? header.value : resolve(folder, header.value)) : folder;
    video = { path, uri: pathToFileURL(path).href, explicit: true, exists: header.value !== '' && (await fileSize(path)) !== undefined };
  } else {
    const base = basename(documentPath, extname(documentPath));
    const match = siblings.find((name) => basename(name, extname(name)) === base);
    if (match) {
      const path = join(folder, match);
      video = { path, uri: pathToFileURL(path).href, explicit: false, exists: true };
    }
  }
  const context: DocumentContext = { video, siblingVideos: siblings };
  if (!video?.exists) return { context };

  const linked = video;
  const probe = options.probes.get(linked.path).then(
    (result) => { linked.durationSec = result.durationSec; },
    (error: unknown) => { linked.probeError = error instanceof Error && 'reason' in error ? String(error.reason) : String(error); },
  );
  if (options.probeWaitMs === Infinity) {
    await probe;
    return { context };
  }
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    probe.then(() => true),
    new Promise<boolean>((done) => { timer = setTimeout(() => done(false), options.probeWaitMs); }),
  ]);
  clearTimeout(timer);
  // A probe still running is reported as pending; its result lands in a later validation.
  return finished ? { context } : { context: { ...context, video: { ...linked } }, pendingProbe: probe };
}
