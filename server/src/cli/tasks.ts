/** `vscan caption`, `vscan find` and `vscan generate <video>`: the model over videos. */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeNpy } from '../io/npy';
import { samplingFromEnv } from '../video/plan';
import { looksAhead, VideoModel, type VideoTaskOptions, type VideoTaskRun } from '../tasks/videoTasks';
import { candidateNames, checkWritableTarget, windowsToVscan, writeCaptionKeepingResult } from '../tasks/writeResult';
import { expandPaths, isVideoName } from './files';
import { loadProgressPrinter, numberFlag, peakResidentBytes, RUNTIME_FLAGS, runtimeFlags, UsageError } from './usage';
import { resolveModelDir } from '../model/acquire/resolveModel';
import { modelLabel } from '../model/acquire/modelSpec';
import { parseShard } from '../library/shards';
import { type BatchSummary, batchVideos, type CaptionOne, engineWorkers, jobsThatFit, runCaptionBatch } from './captionBatch';

export const TASK_HELP = `  vscan caption <video|folder>... --model MODEL [--out FILE] [--json] [--ep …] [--precision …] [--weights …] [--kv-cache …] [--threads N] [--max-new-tokens N]
                [--window S] [--overlap S] [--force] [--dump DIR] [--shard I/N] [--jobs K] [--no-pipeline]
                (a video named writes clip.vscan, or clip.2.vscan… when that exists; in folders, videos
                 with a .vscan already are skipped unless --force; a folder's --json is a summary
                 {videos, jobs, done, skipped, failed}; --shard I/N takes this process's share of the
                 videos, 0 ≤ I < N; --jobs K captions K at once, one engine process each; --json gives each
                 caption's timings: per window, the stages summed, the wall time, their overlap and the peak
                 resident memory; --no-pipeline runs the stages one after another instead of overlapping them)
  vscan find <video> "<event>" --model MODEL [--json] [--ep …] [--precision …] [--weights …] [--kv-cache …] [--window S] [--overlap S] [--dump DIR]
  vscan generate <video> --model MODEL --prompt TEXT [--json]`;

const OPTIONS = {
  model: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, ...RUNTIME_FLAGS,
  'max-new-tokens': { type: 'string' }, dump: { type: 'string' }, prompt: { type: 'string' }, seed: { type: 'string' },
  window: { type: 'string' }, overlap: { type: 'string' }, force: { type: 'boolean' },
  shard: { type: 'string' }, jobs: { type: 'string' }, 'no-pipeline': { type: 'boolean' },
} as const;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The exact model inputs and the first generated position's logits, for comparison with a reference. */
async function dumpRun(dir: string, run: VideoTaskRun): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { ids, positions } = run.prompt;
  const pv = run.prepared.pixelValues;
  await writeNpy(join(dir, 'input_ids.npy'), { dtype: 'int64', data: ids, shape: [1, ids.length] });
  await writeNpy(join(dir, 'position_ids.npy'), { dtype: 'int64', data: positions.flat(), shape: [3, 1, ids.length] });
  await writeNpy(join(dir, 'pixel_values.npy'), { dtype: 'float32', data: pv.data, shape: [pv.rows, pv.columns] });
  await writeNpy(join(dir, 'grid_thw.npy'), { dtype: 'int64', data: pv.gridThw, shape: [1, 3] });
  await writeNpy(join(dir, 'logits.npy'), { dtype: 'float32', data: run.firstLogits, shape: [1, run.firstLogits.length] });
}

function progressPrinter(enabled: boolean): VideoTaskOptions['onProgress'] {
  if (!enabled) return undefined;
  let last = '';
  return ({ stage, done, total, decoded }) => {
    const line = stage === 'generating' ? `generating: ${done} tokens` : `${stage}: ${done}/${total}${decoded ? ` (frames ${decoded.done}/${decoded.total})` : ''}`;
    if (line !== last) process.stderr.write(`\r${line.padEnd(40)}`);
    last = line;
  };
}

export async function runTaskCommand(command: 'caption' | 'find' | 'generate', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (command === 'find' ? positionals.length !== 2 : command === 'generate' ? positionals.length !== 1 : positionals.length < 1) {
    throw new UsageError(command === 'find' ? 'find needs a video and an event description' : command === 'generate' ? 'generate needs exactly one video' : 'caption needs at least one video or folder');
  }
  if (!values.model) throw new UsageError(`${command} needs --model MODEL (a checkpoint folder or a Hub id owner/name[@revision])`);
  if (command === 'generate' && values.prompt === undefined) throw new UsageError('generate needs --prompt TEXT');
  if (command === 'caption' && (values.shard !== undefined || values.jobs !== undefined || (await anyFolder(positionals)))) return runBatchCommand(positionals, values);
  const videos = await expandPaths(command === 'caption' ? positionals : [positionals[0]], isVideoName);
  if (values.out && videos.length > 1) throw new UsageError('--out names one file: caption one video with it');
  const runtime = runtimeFlags(values);
  const maxNewTokens = numberFlag('max-new-tokens', values['max-new-tokens'], { integer: true });
  const long = { window: numberFlag('window', values.window), overlap: numberFlag('overlap', values.overlap, { allowZero: true }) };
  if (long.window !== undefined && long.overlap !== undefined && long.overlap >= long.window) throw new UsageError('--overlap must be shorter than --window');
  if (command === 'caption') {
    // A read-only folder is found before the model loads and runs, not after.
    for (const video of videos) await checkWritableTarget(values.out ? [values.out] : candidateNames(video, 1)).catch((error: Error) => { throw new UsageError(error.message); });
  }
  const model = await VideoModel.load(await resolveModelDir(values.model), { ...runtime, onLoadProgress: loadProgressPrinter(values.json === true, 'quantize') });
  if (model.text.report.fallbackReason && !values.json) console.error(model.text.report.fallbackReason);
  const options: VideoTaskOptions = { sampling: samplingFromEnv(), maxNewTokens, onProgress: progressPrinter(!values.json && process.stderr.isTTY === true), pipeline: values['no-pipeline'] ? false : undefined, keepPixels: values.dump !== undefined };
  if (command === 'find') {
    const result = await model.findLong(videos[0], positionals[1], { ...options, ...long });
    console.log(values.json ? JSON.stringify(result) : result.span ? `${result.span[0]} – ${result.span[1]} s${result.format_ok ? '' : ' (answer not in the trained format)'}` : `no span found in the answer: ${result.raw}`);
    return 0;
  }
  if (command === 'generate') {
    const run = await model.run(videos[0], values.prompt!, options);
    if (values.dump) await dumpRun(values.dump, run);
    console.log(values.json ? JSON.stringify({ raw: run.raw }) : run.raw);
    return 0;
  }
  const results: unknown[] = [];
  let status = 0;
  const named = new Set(positionals); // videos named on the command line, as opposed to found in a folder
  for (const video of videos) {
    // A video found in a folder that has a caption is skipped (re-running a folder resumes it);
    // a video the user names is captioned into the next free name, as the editor's command does.
    if (!values.force && !values.out && !named.has(video) && (await exists(candidateNames(video, 1)[0]))) {
      if (!values.json) console.log(`skipped ${video}: ${basename(candidateNames(video, 1)[0])} exists (--force captions it again into a new file)`);
      results.push({ video, skipped: true });
      continue;
    }
    const caption = await model.captionLong(video, { ...options, ...long });
    // The exact inputs of the (first) window, for comparison with a reference.
    if (values.dump) await dumpRun(values.dump, caption.firstRun);
    const text = windowsToVscan(caption.windows, basename(video), { Model: modelLabel(values.model) });
    const kept = await writeCaptionKeepingResult(values.out ? [values.out] : candidateNames(video), text);
    const written = kept.path;
    if (kept.notice) {
      console.error(kept.notice);
      status = 1;
    }
    if (!written && !values.json) process.stdout.write(text); // written nowhere: the caption goes to standard output rather than being lost
    const events = caption.windows.flatMap((w) => w.events);
    const scene = caption.windows.map((w) => w.scene).join(' ');
    results.push({ video, file: written, notice: kept.notice, ...(written ? {} : { text }), caption: caption.raw, scene, events, format_ok: caption.format_ok, raw: caption.raw, windows: caption.windows, merged: caption.merged,
      timings: { ...caption.wall, peakResidentBytes: peakResidentBytes(), pipeline: options.pipeline !== false, lookahead: looksAhead(options.pipeline, model.text.report.executionProvider), windows: caption.timings } });
    if (!values.json && written) console.log(`wrote ${written}${caption.windows.length > 1 ? ` (${caption.windows.length} windows, ${caption.merged} duplicate events merged)` : ''}${caption.format_ok ? '' : ' (the answer was not in the trained format; kept as written)'}`);
  }
  if (values.json) console.log(JSON.stringify(videos.length === 1 && positionals.length === 1 && !(await isFolder(positionals[0])) ? results[0] : results));
  return status;
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path)).isDirectory();
}

async function anyFolder(paths: readonly string[]): Promise<boolean> {
  for (const path of paths) if (await isFolder(path).catch(() => false)) return true;
  return false;
}

/** Folders (or --shard / --jobs): a batch with a summary; see captionBatch.ts. */
async function runBatchCommand(positionals: string[], values: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>['values']): Promise<number> {
  if (values.out) throw new UsageError('--out names one file: caption one video with it, not a folder or a shard');
  if (values.dump) throw new UsageError('--dump goes with one video, not a folder or a shard');
  let shard;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const requestedJobs = numberFlag('jobs', values.jobs, { integer: true }) ?? 1;
  const runtime = runtimeFlags(values);
  const maxNewTokens = numberFlag('max-new-tokens', values['max-new-tokens'], { integer: true });
  const long = { window: numberFlag('window', values.window), overlap: numberFlag('overlap', values.overlap, { allowZero: true }) };
  const videos = await batchVideos(positionals, shard);
  for (const folder of new Set(videos.map((v) => dirname(v)))) await checkWritableTarget([join(folder, 'x.vscan')]).catch((error: Error) => { throw new UsageError(error.message); });
  const modelDir = await resolveModelDir(values.model!);
  const log = values.json ? undefined : (line: string) => console.log(line);
  const jobs = Math.min(await jobsThatFit(requestedJobs, modelDir, (line) => console.error(line), runtime), Math.max(1, videos.length));
  const sampling = samplingFromEnv();
  const pipeline = values['no-pipeline'] ? false : undefined;
  let workers: { captionOne: CaptionOne; dispose(): void }[];
  if (jobs === 1) {
    const model = await VideoModel.load(modelDir, runtime);
    if (model.text.report.fallbackReason && !values.json) console.error(model.text.report.fallbackReason);
    workers = [{ captionOne: (video) => model.captionLong(video, { sampling, maxNewTokens, pipeline, ...long }), dispose: () => undefined }];
  } else {
    workers = engineWorkers(jobs, modelDir, runtime, { sampling, maxNewTokens, pipeline, ...long });
  }
  try {
    const summary = await runCaptionBatch(videos, workers.map((w) => w.captionOne), { force: values.force === true, modelLabel: modelLabel(values.model!), log });
    const full: BatchSummary = { ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}), ...summary, jobs };
    if (values.json) console.log(JSON.stringify(full));
    else console.log(`${full.shard ? `shard ${full.shard}: ` : ''}${summary.videos} videos: ${summary.done.length} captioned, ${summary.skipped.length} skipped, ${summary.failed.length} failed`);
    return summary.failed.length ? 1 : 0;
  } finally {
    for (const worker of workers) worker.dispose();
  }
}

