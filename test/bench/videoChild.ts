/** Runs the video pipeline once and prints its timings and peak RSS (for bench/video.ts). */
import { prepareVideo } from '../../server/src/video/pipeline';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';

async function main(): Promise<void> {
  const started = performance.now();
  const prepared = await prepareVideo(process.argv[2], { sampling: TRAINING_DEFAULTS });
  const totalMs = performance.now() - started;
  process.stdout.write(JSON.stringify({
    timings: prepared.timings,
    totalMs,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    frames: prepared.plan.frameIndices.length,
  }));
}

void main();
