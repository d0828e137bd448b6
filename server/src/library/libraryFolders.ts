/**
 * The library on disk: finds the `.vscan` files under some folders (bounded), brings the
 * index up to date with them by size and modification time (an unchanged file is not read
 * again), and keeps the index in a cache file between runs.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { isVideoFileName, LARGE_DOCUMENT_CHARS, parseVscan, type VscanDocument } from '../language';
import { readRegularFile } from '../io/regularFile';
import { writeFileAtomic } from '../workspace/atomicWrite';
import { linkedVideoPath, siblingVideos as videosIn } from '../workspace/videoContext';
import { LibraryIndex } from './searchIndex';

/** Most `.vscan` files one library indexes; the rest are reported, not read. */
export const MAX_LIBRARY_FILES = 20_000;
/** Most folder entries looked at while searching for them (a home folder is not a library). */
export const MAX_LIBRARY_WALK_ENTRIES = 500_000;
/**
 * A larger `.vscan` is not indexed: the same size above which the editor stops validating
 * per keystroke (limits.ts); one character is at least one byte.
 */
export const MAX_INDEXED_FILE_BYTES = LARGE_DOCUMENT_CHARS;
/** Largest saved index read back (it is rebuilt otherwise). */
const MAX_INDEX_FILE_BYTES = 512 * 1024 * 1024;

/** Folders never looked into: tools' own trees, not footage. */
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.hg', '.svn']);

export interface LibraryListing {
  /** `.vscan` files, sorted. */
  files: string[];
  /** Per folder, the video file names in it (what links a `.vscan` without a `Video:` header). */
  videosByFolder: Map<string, string[]>;
  /** Set when a cap stopped the walk: the listing is incomplete and says why. */
  truncated?: string;
}

/** The `.vscan` files under `roots` (files named directly are taken as they are), bounded by the caps above. */
export async function listLibrary(roots: readonly string[], maxFiles = MAX_LIBRARY_FILES): Promise<LibraryListing> {
  const files: string[] = [];
  const videosByFolder = new Map<string, string[]>();
  const queue: string[] = [];
  for (const root of roots) {
    const info = await stat(root);
    if (info.isDirectory()) queue.push(resolve(root));
    else files.push(resolve(root));
  }
  let seen = 0;
  let truncated: string | undefined;
  while (queue.length && !truncated) {
    const folder = queue.shift()!;
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      continue; // unreadable folder: nothing of it is in the library
    }
    const videos: string[] = [];
    for (const entry of entries) {
      if (++seen > MAX_LIBRARY_WALK_ENTRIES) { truncated = `stopped after ${MAX_LIBRARY_WALK_ENTRIES} folder entries`; break; }
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) queue.push(join(folder, entry.name));
      else if (entry.isFile() && entry.name.endsWith('.vscan')) {
        if (files.length >= maxFiles) { truncated = `more than ${maxFiles} .vscan files; only the first ${maxFiles} are indexed`; break; }
        files.push(join(folder, entry.name));
      } else if (entry.isFile() && isVideoFileName(entry.name)) videos.push(entry.name);
    }
    videosByFolder.set(folder, videos);
  }
  return { files: files.sort(), videosByFolder, ...(truncated ? { truncated } : {}) };
}

/** Which version of a file on disk: size and modification time. */
export function diskStamp(info: { size: number; mtimeMs: number }): string {
  return `${info.size}:${info.mtimeMs}`;
}

export interface SyncReport {
  /** Files read and indexed now. */
  indexed: number;
  /** Files whose indexed version was current. */
  unchanged: number;
  /** Files dropped from the index (gone from disk). */
  removed: number;
  /** Files not indexed, each with why. */
  skipped: { file: string; reason: string }[];
  truncated?: string;
}

/** What reading one file for the index found: its version, its parse and video, or why it could not be read. */
interface FileReading {
  file: string;
  stamp?: string;
  doc?: VscanDocument;
  video?: string;
  reason?: string;
}

async function readForIndex(file: string, siblingVideos: readonly string[] | undefined): Promise<FileReading> {
  let info;
  try {
    info = await stat(file);
  } catch {
    return { file, reason: 'no longer exists' };
  }
  const stamp = diskStamp(info);
  let text: string | undefined;
  let reason: string | undefined;
  try {
    text = (await readRegularFile(file, MAX_INDEXED_FILE_BYTES, (message) => new Error(message)))?.toString('utf8');
  } catch (error) {
    reason = (error as Error).message;
  }
  const doc = text === undefined ? undefined : parseVscan(text);
  const siblings = siblingVideos ?? (await videosIn(dirname(file)));
  return { file, stamp, doc, video: doc && linkedVideoPath(doc, file, siblings)?.path, reason };
}

/** Applies a reading: a file gone is dropped; one that cannot be indexed is recorded empty at its version, so it is not read again until it changes. */
function applyReading(index: LibraryIndex, reading: FileReading): string | undefined {
  if (reading.stamp === undefined) {
    index.remove(reading.file);
    return reading.reason;
  }
  index.update(reading.file, reading.stamp, reading.doc, reading.video);
  return reading.reason;
}

/** Reads and indexes one file from disk (unless current); the reason it was not indexed, if it was not. */
export async function indexFileFromDisk(index: LibraryIndex, file: string, siblingVideos: readonly string[] | undefined): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (info && index.isCurrent(file, diskStamp(info))) return undefined;
  return applyReading(index, await readForIndex(file, siblingVideos));
}

/** Files read at once while syncing: enough to hide the file system's latency, few enough to hold no memory to speak of. */
const READ_CONCURRENCY = 16;

/**
 * Brings `index` up to date with the `.vscan` files under `roots`: new and changed files are
 * read and indexed, unchanged ones kept, vanished ones dropped. `heldElsewhere` names files
 * whose newer text the caller indexes itself (documents open in the editor).
 */
export async function syncLibrary(index: LibraryIndex, roots: readonly string[], options: { heldElsewhere?: ReadonlySet<string>; maxFiles?: number } = {}): Promise<SyncReport> {
  const listing = await listLibrary(roots, options.maxFiles);
  const report: SyncReport = { indexed: 0, unchanged: 0, removed: 0, skipped: [], ...(listing.truncated ? { truncated: listing.truncated } : {}) };
  const present = new Set(listing.files);
  const absoluteRoots = roots.map((r) => resolve(r));
  for (const file of index.indexedFiles()) {
    const underRoots = absoluteRoots.some((root) => file === root || !relative(root, file).startsWith('..'));
    if (underRoots && !present.has(file) && !options.heldElsewhere?.has(file)) {
      index.remove(file);
      report.removed++;
    }
  }
  const stale: string[] = [];
  await forEachBatch(listing.files, READ_CONCURRENCY, async (file) => {
    if (options.heldElsewhere?.has(file)) return;
    const info = await stat(file).catch(() => undefined);
    if (info && index.isCurrent(file, diskStamp(info))) report.unchanged++;
    else stale.push(file);
  });
  stale.sort();
  for (let i = 0; i < stale.length; i += READ_CONCURRENCY) {
    // Read in parallel, indexed in order: the same library always gets the same index.
    const readings = await Promise.all(stale.slice(i, i + READ_CONCURRENCY).map((file) => readForIndex(file, listing.videosByFolder.get(dirname(file)))));
    for (const reading of readings) {
      const reason = applyReading(index, reading);
      if (reason) report.skipped.push({ file: reading.file, reason });
      else report.indexed++;
    }
  }
  return report;
}

/** Runs `work` on every item, `size` at a time. */
async function forEachBatch<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/** Where the index of these folders is kept under `cacheRoot`: `search/<hash of the folders>.json`. */
export function indexFileFor(cacheRoot: string, roots: readonly string[]): string {
  const key = roots.map((r) => resolve(r)).sort().join('\n');
  return join(cacheRoot, 'search', `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
}

/** The saved index, or an empty one when there is none (or it cannot be read). */
export async function loadIndex(file: string): Promise<LibraryIndex> {
  try {
    const bytes = await readRegularFile(file, MAX_INDEX_FILE_BYTES, (message) => new Error(message));
    return bytes ? LibraryIndex.fromJSON(bytes.toString('utf8')) : LibraryIndex.empty();
  } catch {
    return LibraryIndex.empty();
  }
}

/** Saves the index atomically (a reader sees the old index or the new, never half of one); answers its size in bytes. */
export async function saveIndex(file: string, index: LibraryIndex): Promise<number> {
  await mkdir(dirname(file), { recursive: true });
  const json = JSON.stringify(index);
  await writeFileAtomic(file, json);
  return Buffer.byteLength(json);
}
