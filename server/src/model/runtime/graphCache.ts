/**
 * The graph cache (`~/.cache/video-scan/onnx/`): one folder per built graph, holding the
 * `.onnx` file and hard links to the checkpoint's weight files, so ONNX Runtime reads the
 * weights in place. A hard link keeps a file's bytes alive after the checkpoint is deleted
 * or replaced: such an entry pins gigabytes for nothing. `vscan cache list|clean` shows and
 * removes them.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../workspace/atomicWrite';

/** The cache folder: `$XDG_CACHE_HOME/video-scan/onnx`, else `~/.cache/video-scan/onnx`. */
export function defaultGraphCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'video-scan', 'onnx');
}

/** What an entry was built from, written beside its graph (`source.json`). */
export interface GraphCacheSource {
  checkpoint: string;
  /** Each hard link's name → the checkpoint weight file it links. */
  links: Record<string, string>;
}

export const SOURCE_FILE = 'source.json';

/**
 * The identity of a checkpoint's weight files as they are now (path, size, modification
 * time), 12 hex digits: quantized weights are named by it (`weights-<scheme>-<identity>.bin`),
 * so an entry whose file carries another identity was made from weights since replaced.
 */
export async function weightFilesIdentity(paths: string[]): Promise<string> {
  const hash = createHash('sha1');
  for (const path of paths) {
    const info = await stat(path);
    hash.update(`${resolve(path)}\0${info.size}\0${info.mtimeMs}\0`);
  }
  return hash.digest('hex').slice(0, 12);
}

const QUANTIZED_FILE = /^weights-.*-([0-9a-f]{12})\.bin$/;

/** Records where an entry's links come from, so `cache list` can tell live entries from stale ones. */
export async function writeGraphCacheSource(folder: string, source: GraphCacheSource): Promise<void> {
  await writeFileAtomic(join(folder, SOURCE_FILE), JSON.stringify(source, null, 2) + '\n');
}

/** One cache entry as `vscan cache list` shows it. */
export interface GraphCacheEntry {
  folder: string;
  /** The checkpoint it was built from, when recorded. */
  checkpoint?: string;
  /** Bytes of the entry's own files (graph, records). */
  graphBytes: number;
  /** Bytes of weight files that only this entry still holds (their checkpoint file is gone or was replaced), and of quantized weights made from such files. */
  pinnedBytes: number;
  /** `live`: every weight link is the checkpoint's current file; `stale`: some link holds bytes nothing else uses. */
  state: 'live' | 'stale';
  lastBuilt: Date;
}

/** Entry folders are `<graph>-<16 hex>`; nothing else in the folder is ours to judge or delete. */
const ENTRY_NAME = /^[a-z][a-z0-9-]*-[0-9a-f]{16}$/;

async function readSource(folder: string): Promise<GraphCacheSource | undefined> {
  try {
    const value = JSON.parse(await readFile(join(folder, SOURCE_FILE), 'utf8')) as Partial<GraphCacheSource>;
    return typeof value.checkpoint === 'string' && value.links && typeof value.links === 'object' ? (value as GraphCacheSource) : undefined;
  } catch {
    return undefined;
  }
}

async function sameInode(a: string, b: { ino: number; dev: number }): Promise<boolean> {
  try {
    const x = await stat(a);
    return x.ino === b.ino && x.dev === b.dev;
  } catch {
    return false;
  }
}

/** The entries of a cache folder (none when it does not exist). Bounded by the folder's listing. */
export async function listGraphCache(cacheDir = defaultGraphCacheDir()): Promise<GraphCacheEntry[]> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return [];
  }
  const entries: GraphCacheEntry[] = [];
  for (const name of names.sort()) {
    const folder = join(cacheDir, name);
    const info = await lstat(folder);
    if (!info.isDirectory() || !ENTRY_NAME.test(name)) continue; // never follow a link out of the cache
    const source = await readSource(folder);
    let graphBytes = 0;
    let pinnedBytes = 0;
    let lastBuilt = info.mtime;
    // What the entry's quantized weights should be named after, if they were made from the checkpoint as it is.
    const identity = source ? await weightFilesIdentity(Object.values(source.links)).catch(() => undefined) : undefined;
    for (const file of await readdir(folder)) {
      const path = join(folder, file);
      const fileInfo = await lstat(path);
      if (!fileInfo.isFile()) continue;
      if (file.endsWith('.onnx')) lastBuilt = fileInfo.mtime;
      const original = source?.links[file];
      const quantized = QUANTIZED_FILE.exec(file);
      if (quantized) {
        if (quantized[1] === identity) graphBytes += fileInfo.size;
        else pinnedBytes += fileInfo.size; // made from weights that are gone or were replaced
        continue;
      }
      if (original === undefined && fileInfo.nlink === 1 && !file.endsWith('.safetensors')) {
        graphBytes += fileInfo.size; // the graph and records
        continue;
      }
      // A weight link: live while the checkpoint's file is this very file; otherwise this
      // entry alone keeps its bytes (nlink 1), or shares them with another stale entry.
      const live = original !== undefined ? await sameInode(original, fileInfo) : fileInfo.nlink > 1;
      if (!live) pinnedBytes += fileInfo.size;
    }
    entries.push({ folder, checkpoint: source?.checkpoint, graphBytes, pinnedBytes, state: pinnedBytes > 0 ? 'stale' : 'live', lastBuilt });
  }
  return entries;
}

/**
 * Removes stale entries (or every entry with `all`); returns what was removed. An entry in
 * use by a running engine loses nothing: its open files stay readable until closed, and
 * the next load rebuilds the entry.
 */
export async function cleanGraphCache(cacheDir = defaultGraphCacheDir(), options: { all?: boolean } = {}): Promise<GraphCacheEntry[]> {
  const removed: GraphCacheEntry[] = [];
  for (const entry of await listGraphCache(cacheDir)) {
    if (!options.all && entry.state === 'live') continue;
    await rm(entry.folder, { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}
