/**
 * The graph cache (`~/.cache/video-scan/onnx/`): one folder per built graph, holding the
 * `.onnx` file and hard links to the checkpoint's weight files, so ONNX Runtime reads the
 * weights in place. A hard link keeps a file's bytes alive after the checkpoint is deleted
 * or replaced: such an entry pins gigabytes for nothing. `vscan cache list|clean` shows and
 * removes them.
 */
import { lstat, readdir, readFile, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** Bytes of weight files that only this entry still holds (their checkpoint file is gone or was replaced). */
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
    for (const file of await readdir(folder)) {
      const path = join(folder, file);
      const fileInfo = await lstat(path);
      if (!fileInfo.isFile()) continue;
      if (file.endsWith('.onnx')) lastBuilt = fileInfo.mtime;
      const original = source?.links[file];
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
