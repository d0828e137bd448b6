/**
 * Splitting a folder of videos between N machines or processes (`vscan caption --shard I/N`).
 * Rendezvous (highest-random-weight) hashing: a video belongs to the shard whose hash of
 * (shard, path relative to the folder) is highest. So the split depends on nothing but the
 * video's own relative path and N: every video is in exactly one shard, adding or removing
 * videos never moves the others, and going from N to N+1 shards moves only about 1/(N+1)
 * of them (to the new shard). No coordination, no shared state: what Slurm job arrays and
 * Kubernetes Indexed Jobs need.
 */
import { createHash } from 'node:crypto';
import { relative, sep } from 'node:path';

export interface Shard {
  /** 0-based, as Kubernetes' JOB_COMPLETION_INDEX and Slurm's SLURM_ARRAY_TASK_ID (with --array=0-N-1) count. */
  index: number;
  count: number;
}

/** Parses `I/N`; throws a one-line message otherwise. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(count) || count < 1 || count > 4096 || index >= count) {
    throw new Error(`--shard is I/N with 0 ≤ I < N ≤ 4096 (e.g. 0/4), got "${text}"`);
  }
  return { index, count };
}

/** The key a video is hashed by: its path relative to the folder, with / separators (the same on every OS). */
export function shardKey(file: string, folder: string): string {
  return relative(folder, file).split(sep).join('/');
}

function weight(shard: number, key: string): bigint {
  return createHash('sha256').update(`${shard}\0${key}`).digest().readBigUInt64BE(0);
}

/** The shard (0 … count−1) that owns `key`. */
export function shardOf(key: string, count: number): number {
  let best = 0;
  let bestWeight = -1n;
  for (let i = 0; i < count; i++) {
    const w = weight(i, key);
    if (w > bestWeight) {
      best = i;
      bestWeight = w;
    }
  }
  return best;
}

/** The files of `files` that shard `shard` owns, in their order. */
export function filesOfShard(files: readonly string[], folder: string, shard: Shard): string[] {
  return files.filter((file) => shardOf(shardKey(file, folder), shard.count) === shard.index);
}
