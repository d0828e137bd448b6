/**
 * Keeping a cache folder within a size. The preview's proxies and filmstrips and the
 * library's thumbnails are made on demand and kept for next time; without a bound they
 * would fill the user's disk one video at a time. The least recently used files go first
 * (access time where the file system records it, else modification time), and partial
 * files a crash left behind go whatever their age once they are an hour old.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** How many entries of a folder are looked at, at most (a folder is ours, but bound it anyway). */
const MAX_ENTRIES = 100_000;
/** A partial file this old is no longer being written. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

export interface PruneResult {
  removed: number;
  freedBytes: number;
  keptBytes: number;
}

/** Removes files directly in `dir`, least recently used first, until what is left fits in `maxBytes`. */
export async function pruneFolder(dir: string, maxBytes: number, now = Date.now()): Promise<PruneResult> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files: { path: string; size: number; used: number; partial: boolean }[] = [];
  for (const name of names.slice(0, MAX_ENTRIES)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    files.push({ path, size: info.size, used: Math.max(info.atimeMs, info.mtimeMs), partial: name.includes('.partial') });
  }
  const result: PruneResult = { removed: 0, freedBytes: 0, keptBytes: files.reduce((sum, f) => sum + f.size, 0) };
  const remove = async (file: (typeof files)[number]) => {
    await rm(file.path, { force: true });
    result.removed++;
    result.freedBytes += file.size;
    result.keptBytes -= file.size;
  };
  const kept = [];
  for (const file of files) {
    if (file.partial && now - file.used > STALE_PARTIAL_MS) await remove(file);
    else kept.push(file);
  }
  kept.sort((a, b) => a.used - b.used);
  for (const file of kept) {
    if (result.keptBytes <= maxBytes) break;
    if (file.partial) continue; // possibly still being written
    await remove(file);
  }
  return result;
}
