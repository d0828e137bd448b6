/**
 * Caption benchmark with the tiny checkpoint on CPU: per-stage times for the 2-minute
 * 1080p clip, and a 10-minute clip captioned through windows.
 */
import { join } from 'node:path';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { probeVideo } from '../../server/src/video/probe';
import { tempDir } from '../helpers/videos';
import type { Table } from './stats';
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
}
