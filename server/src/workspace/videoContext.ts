/**
 * Gathers a .vscan document's DocumentContext from the file system and a probe: which
 * video it links, whether that exists, its duration. Shared by the language server and
 * the CLI so both see the same world.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DocumentContext, findHeader, isVideoFileName, type LinkedVideo, type VscanDocument } from '../language';
import type { ProbeCache } from '../video/probe';

const MAX_SIBLINGS = 50;

/**
 * Whether something other than a folder is at `path`. A FIFO or device counts as there:
 * the probe refuses it by name (unreadable-video) rather than calling it missing.
 */
async function existsNotFolder(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The video names in each folder listed lately, with the folder's mtime when listed. A
 * .vscan's folder is read on every validation (every keystroke): listing 20,000 entries
 * takes ~25 ms here, a stat ~0.3 ms, and the folder's mtime moves whenever an entry is
 * added, removed or renamed.
 */
const listings = new Map<string, { mtimeMs: number; videos: string[] }>();
const MAX_LISTINGS = 64;

/** The video file names in `folder`, sorted (listed again only when the folder changes). */
export async function siblingVideos(folder: string): Promise<readonly string[]> {
  try {
    const { mtimeMs } = await stat(folder);
    const cached = listings.get(folder);
    if (cached?.mtimeMs === mtimeMs) return cached.videos;
    const videos = (await readdir(folder)).filter(isVideoFileName).sort();
    listings.delete(folder);
    listings.set(folder, { mtimeMs, videos });
    if (listings.size > MAX_LISTINGS) listings.delete(listings.keys().next().value!);
    return videos;
  } catch {
    return [];
  }
}

/**
 * Where a document's video is, by the format's rule: the `Video:` header (relative to the
 * document's folder, or absolute), else a video with the document's base name among
 * `siblings` (the video file names in its folder). Existence is the caller's to check.
 * Shared by the language server, the CLI and the VS Code client.
 */
export function linkedVideoPath(doc: VscanDocument, documentPath: string, siblings: readonly string[]): { path: string; explicit: boolean } | undefined {
  const folder = dirname(documentPath);
  const header = findHeader(doc, 'video');
  if (header) return { path: header.value ? (isAbsolute(header.value) ? header.value : resolve(folder, header.value)) : folder, explicit: true };
  const base = basename(documentPath, extname(documentPath));
  const match = siblings.find((name) => basename(name, extname(name)) === base);
  return match ? { path: join(folder, match), explicit: false } : undefined;
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
  /**
   * Whether the workspace is trusted (default true). Untrusted: the video is never probed
   * (no child process runs, the file is not opened); the context says so.
   */
  trusted?: boolean;
}

/** The video linked by a document at `documentPath` (an absolute file path). */
export async function resolveDocumentContext(doc: VscanDocument, documentPath: string, options: ResolveOptions): Promise<ResolvedContext> {
  const siblings = await siblingVideos(dirname(documentPath));
  const linked = linkedVideoPath(doc, documentPath, siblings);
  // Only a regular file is a video: a folder is not, and a FIFO would hang the probe.
  const video: LinkedVideo | undefined = linked && {
    ...linked,
    uri: pathToFileURL(linked.path).href,
    exists: !linked.explicit || (await existsNotFolder(linked.path)),
  };
  const context: DocumentContext = { video, siblingVideos: siblings.slice(0, MAX_SIBLINGS) };
  if (!video?.exists) return { context };
  if (options.trusted === false) {
    video.untrusted = true;
    return { context };
  }

  const probe = options.probes.get(video.path).then(
    (result) => { video.durationSec = result.durationSec; },
    (error: unknown) => { video.probeError = error instanceof Error && 'reason' in error ? String(error.reason) : String(error); },
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
  return finished ? { context } : { context: { ...context, video: { ...video } }, pendingProbe: probe };
}
