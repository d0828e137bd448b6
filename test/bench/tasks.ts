/**
 * Caption benchmark with the tiny checkpoint on CPU: per-stage times for the 2-minute
 * 1080p clip, and a 10-minute clip captioned through windows; both again with the stages
 * in turn against overlapped (and, with BENCH_PIPELINE_LAYERS=N, at full width).
 */
import { existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '../helpers/randomCheckpoint';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { probeVideo } from '../../server/src/video/probe';
import { tempDir } from '../helpers/videos';
import { median, type Table } from './stats';
import { benchClip } from './video';

export async function benchTasks(tables: Table[]): Promise<void> {
  const dir = await tempDir('vscan-bench-tasks-');
  await writeTinyCheckpoint(join(dir, 'tiny'), { seed: 1 });
  const model = await VideoModel.load(join(dir, 'tiny'), { executionProvider: 'cpu', cacheDir: join(dir, 'cache') });
  const clip = await benchClip('clip-1080p-120s.mp4', '1920x1080', 120);
  const started = performance.now();
  const result = await model.caption(clip, { sampling: TRAINING_DEFAULTS, maxNewTokens: 32 });
  const total = performance.now() - started;
  const t = result.run.prepared.timings;
  const m = result.run.timings;
  const ms = (v: number) => v.toFixed(0);
  tables.push({
    title: 'Caption, tiny checkpoint on CPU: 2-minute 1920×1080 clip (ms)',
    head: ['probe', 'decode + resize', 'patchify', 'vision tower', 'prefill', 'decode tokens', 'total'],
    rows: [[ms(t.probe), ms(t.decodeAndResize), ms(t.patchify), ms(m.vision), `${ms(m.prefill)} (${result.run.prompt.ids.length} tokens)`, `${ms(m.decode)} (${m.tokens} tokens)`, ms(total)]],
    notes: ['The tiny checkpoint makes the model stages cheap; the video stages are the real ones. GPU figures for the real checkpoint: to be measured on a CUDA machine.'],
  });

  const long = await benchClip('clip-360p-10min.mp4', '640x360', 600);
  const duration = (await probeVideo(long)).durationSec;
  const longStarted = performance.now();
  const caption = await model.captionLong(long, { sampling: TRAINING_DEFAULTS, maxNewTokens: 16 });
  const longTotal = performance.now() - longStarted;
  const sum = (f: (r: (typeof caption.timings)[number]) => number) => caption.timings.reduce((a, r) => a + f(r), 0);
  tables.push({
    title: `Caption through windows, tiny checkpoint on CPU: ${(duration / 60).toFixed(0)}-minute 640×360 clip, ${caption.windows.length} windows of 120 s overlapping 10 s (ms, summed over windows)`,
    head: ['probe', 'decode + resize', 'patchify', 'vision tower', 'prefill', 'decode tokens', 'total'],
    rows: [[ms(sum((r) => r.video.probe)), ms(sum((r) => r.video.decodeAndResize)), ms(sum((r) => r.video.patchify)), ms(sum((r) => r.model.vision)), ms(sum((r) => r.model.prefill)), ms(sum((r) => r.model.decode)), ms(longTotal)]],
    notes: ['Each window decodes only its own span: one pass that starts with a seek to the window (or per-frame seeks when estimated cheaper).'],
  });
  await benchPipeline(tables, model, 'tiny checkpoint', [
    { label: '2-minute 1920×1080 clip, one window', file: clip, maxNewTokens: 32 },
    { label: `${(duration / 60).toFixed(0)}-minute 640×360 clip, ${caption.windows.length} windows`, file: long, maxNewTokens: 16 },
  ]);
  await benchPipelineWide(tables, dir);
}

/**
 * BENCH_PIPELINE_LAYERS=N: the overlap at full width with N of 24 text layers and vision
 * blocks (a random checkpoint in the 2B layout, written once to the temporary folder and
 * kept): model stages of the size that video work hides behind.
 */
export async function benchPipelineWide(tables: Table[], cacheParent: string): Promise<void> {
  const layers = Number(process.env.BENCH_PIPELINE_LAYERS ?? 0);
  if (!(layers > 0)) return;
  const wide = join(tmpdir(), `vscan-bench-pipeline-${layers}`);
  if (!existsSync(join(wide, 'model.safetensors'))) await writeRandomCheckpoint(wide, { textLayers: layers, visionDepth: layers });
  const model = await VideoModel.load(wide, { executionProvider: 'cpu', cacheDir: join(cacheParent, 'cache-wide') });
  const clip = await benchClip('clip-1080p-30s.mp4', '1920x1080', 30);
  await benchPipeline(tables, model, `full width, ${layers} of 24 layers, ${model.text.report.weights} weights`, [
    { label: '30-second 1920×1080 clip, one window', file: clip, maxNewTokens: 16 },
  ]);
}

/**
 * The caption's wall time with the stages overlapped (pairs encoded as they arrive, the next
 * window prepared during this one's model run) against the same caption with the stages in
 * turn, interleaved in one run so both see the same machine load.
 */
export async function benchPipeline(tables: Table[], model: VideoModel, checkpoint: string, clips: { label: string; file: string; maxNewTokens: number }[]): Promise<void> {
  const rows: string[][] = [];
  const load = () => loadavg()[0].toFixed(1);
  const loadBefore = load();
  for (const clip of clips) {
    const runs: Record<'inTurn' | 'overlapped', { wallMs: number; stagesMs: number }[]> = { inTurn: [], overlapped: [] };
    for (let i = 0; i < 2; i++) {
      for (const pipeline of [false, true]) {
        const caption = await model.captionLong(clip.file, { sampling: TRAINING_DEFAULTS, maxNewTokens: clip.maxNewTokens, pipeline });
        runs[pipeline ? 'overlapped' : 'inTurn'].push(caption.wall);
      }
    }
    const wall = (k: keyof typeof runs) => median(runs[k].map((r) => r.wallMs));
    const stages = (k: keyof typeof runs) => median(runs[k].map((r) => r.stagesMs));
    rows.push([clip.label, stages('inTurn').toFixed(0), wall('inTurn').toFixed(0), stages('overlapped').toFixed(0), wall('overlapped').toFixed(0), (stages('overlapped') - wall('overlapped')).toFixed(0), `${(wall('inTurn') / wall('overlapped')).toFixed(2)}×`]);
  }
  tables.push({
    title: `Overlapped caption pipeline, ${checkpoint} on CPU: wall time in turn vs overlapped (median of 2 each, interleaved; ms)`,
    head: ['clip', 'stages summed, in turn', 'wall, in turn', 'stages summed, overlapped', 'wall, overlapped', 'overlap (stages − wall)', 'in turn ÷ overlapped'],
    rows,
    notes: [
      `Load average (1 min) ${loadBefore} before, ${load()} after, on this machine shared with other work.`,
      'Stages that overlap slow each other down where they share the cores (the stages summed grow from in turn to overlapped): the overlap column is what the wall time did not pay of the overlapped stages, not the time saved; the last column is the saving.',
      ...(checkpoint !== 'tiny checkpoint' ? [] : ['The tiny checkpoint makes the model stages cheap, so what overlaps here is mostly video with video (the next window\'s decode beside this window\'s resize and patchify) and the small model; with the real model the vision tower and prefill dominate and the video stages hide behind them.']),
    ],
  });
}
