/** Runs the video pipeline once and prints its timings and peak RSS (for bench/video.ts). */
import { prepareVideo } from '../../server/src/video/pipeline';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';

async function main(): Promise<void> {
  const started = performance.now();
  const method = (process.argv[3] ?? 'auto') as 'auto' | 'sequential' | 'seek';
  const prepared = await prepareVideo(process.argv[2], { sampling: TRAINING_DEFAULTS, decodeMethod: method });
  const totalMs = performance.now() - started;
  process.stdout.write(JSON.stringify({
    method: prepared.decode.method,
    timings: prepared.timings,
    totalMs,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    frames: prepared.plan.frameIndices.length,
  }));
}

void main();
