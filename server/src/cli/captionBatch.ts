/**
 * `vscan caption FOLDER…` as a batch: the videos of this shard (`--shard I/N`), K at a time
 * (`--jobs K`, one engine process each, as many as memory allows), each failure recorded
 * and the batch going on, and a summary at the end (`--json`: done, skipped, failed with
 * reasons). Re-running resumes: a video that has its `.vscan` is skipped.
 */
import { readdir, stat } from 'node:fs/promises';
import { freemem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describeBytes } from '../io/regularFile';
import { filesOfShard, type Shard } from '../library/shards';
import { EngineHost } from '../model/runtime/engineHost';
import type { VideoTaskRequest } from '../model/runtime/engineProtocol';
import { type RuntimeOptions, weightsFor } from '../model/runtime/runtime';
import type { WindowCaption } from '../tasks/windows';
import { candidateNames, windowsToVscan, writeCaptionKeepingResult } from '../tasks/writeResult';
import { expandPaths, isVideoName } from './files';

/** What one worker does with one video: its caption, window by window. */
export type CaptionOne = (video: string) => Promise<{ windows: WindowCaption[]; merged: number; format_ok: boolean; raw: string }>;

export interface BatchSummary {
  /** `I/N` when sharded. */
  shard?: string;
  /** Videos in this shard (all of them, unsharded). */
  videos: number;
  jobs: number;
  done: { video: string; file?: string; notice?: string; events: number; format_ok: boolean }[];
  skipped: { video: string; reason: string }[];
  failed: { video: string; reason: string }[];
}

/** The videos under `paths` that `shard` owns; a video's shard key is its path relative to the folder named. */
export async function batchVideos(paths: readonly string[], shard: Shard | undefined): Promise<string[]> {
  const videos: string[] = [];
  for (const path of paths) {
    const found = await expandPaths([path], isVideoName);
    const folder = (await stat(path)).isDirectory() ? path : dirname(path);
    videos.push(...(shard ? filesOfShard(found, folder, shard) : found));
  }
  return videos;
}

/** Bytes of the checkpoint's weight files: what each engine process holds at least once. */
async function weightBytes(modelDir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(modelDir)) {
    if (name.endsWith('.safetensors')) total += (await stat(join(modelDir, name))).size;
  }
  return total;
}

/**
 * The peak resident memory of one engine process's caption, from the checkpoint's weight
 * bytes (bf16) and what it runs: measured at the 2B size on the CPU (docs/benchmarks.md, "The
 * decode Loop beside the If": a 4.12 GiB checkpoint peaked at 10.1 GiB in float32 and 4.6
 * GiB with int8 weights captioning 30 seconds, 3.9 GiB with int4 captioning 2 minutes),
 * rounded up. Where `auto` could still pick a GPU, or weights whose host memory was not
 * measured, float32's figure: the most a process can need.
 */
export function bytesPerJob(weightBytes: number, runtime: Pick<RuntimeOptions, 'executionProvider' | 'weights'> = {}): number {
  const onCpu = runtime.executionProvider === 'cpu';
  const weights = onCpu ? weightsFor('cpu', runtime.weights, weightBytes) : 'bf16';
  return Math.ceil({ bf16: 2.5, int8: 1.2, int4: 1 }[weights] * weightBytes);
}

/** How many engines fit (bytesPerJob each): `requested`, lowered (with a note) when free memory would not hold that many. */
export async function jobsThatFit(requested: number, modelDir: string, note: (line: string) => void, runtime: Pick<RuntimeOptions, 'executionProvider' | 'weights'> = {}): Promise<number> {
  const perJob = bytesPerJob(await weightBytes(modelDir), runtime);
  const fit = perJob > 0 ? Math.max(1, Math.floor((freemem() * 0.8) / perJob)) : requested;
  if (fit >= requested) return requested;
  note(`--jobs ${requested} lowered to ${fit}: each job holds about ${describeBytes(perJob)} of model and ${describeBytes(freemem())} of memory is free`);
  return fit;
}

/** A worker per job, each with its own engine process, loaded once. */
export function engineWorkers(count: number, modelDir: string, runtime: RuntimeOptions, request: Omit<VideoTaskRequest, 'task' | 'video'>): { captionOne: CaptionOne; dispose(): void }[] {
  return Array.from({ length: count }, () => {
    const host = new EngineHost();
    let loaded: Promise<unknown> | undefined;
    return {
      captionOne: async (video: string) => {
        loaded ??= host.load(modelDir, runtime);
        await loaded;
        const result = await host.videoTask({ ...request, task: 'caption', video });
        if (result.task !== 'caption') throw new Error('the engine answered a caption with another task');
        return result;
      },
      dispose: () => host.dispose(),
    };
  });
}

/** Captions `videos` with the workers (one video per worker at a time), skipping captioned ones unless `force`. */
export async function runCaptionBatch(videos: readonly string[], workers: readonly CaptionOne[], options: { force: boolean; modelLabel: string; log?: (line: string) => void }): Promise<Omit<BatchSummary, 'shard' | 'jobs'>> {
  const summary: Omit<BatchSummary, 'shard' | 'jobs'> = { videos: videos.length, done: [], skipped: [], failed: [] };
  const queue = [...videos];
  await Promise.all(workers.map(async (captionOne) => {
    for (let video = queue.shift(); video !== undefined; video = queue.shift()) { // bounded: each turn takes one video off the queue
      const existing = candidateNames(video, 1)[0];
      if (!options.force && (await stat(existing).then(() => true, () => false))) {
        summary.skipped.push({ video, reason: `${basename(existing)} exists` });
        options.log?.(`skipped ${video}: ${basename(existing)} exists (--force captions it again into a new file)`);
        continue;
      }
      try {
        const caption = await captionOne(video);
        const text = windowsToVscan(caption.windows, basename(video), { Model: options.modelLabel });
        const kept = await writeCaptionKeepingResult(candidateNames(video), text);
        if (!kept.path) throw new Error(kept.notice ?? 'the caption could not be written');
        summary.done.push({ video, file: kept.path, ...(kept.notice ? { notice: kept.notice } : {}), events: caption.windows.reduce((n, w) => n + w.events.length, 0), format_ok: caption.format_ok });
        options.log?.(`wrote ${kept.path}${kept.notice ? ` (${kept.notice})` : ''}`);
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
        summary.failed.push({ video, reason });
        options.log?.(`failed ${video}: ${reason}`);
      }
    }
  }));
  const order = new Map(videos.map((v, i) => [v, i]));
  const byOrder = (a: { video: string }, b: { video: string }) => order.get(a.video)! - order.get(b.video)!;
  summary.done.sort(byOrder);
  summary.skipped.sort(byOrder);
  summary.failed.sort(byOrder);
  return summary;
}
