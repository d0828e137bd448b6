/** Loads a checkpoint's text engine once and prints resident memory before and after (for bench/engine.ts). */
import { TextEngine } from '../../server/src/model/runtime/engine';

async function main(): Promise<void> {
  const [dir, precision, cacheDir] = process.argv.slice(2);
  const before = process.memoryUsage().rss;
  const engine = await TextEngine.load(dir, { executionProvider: 'cpu', precision: precision as 'fp32' | 'fp16', cacheDir });
  const after = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ loadedMiB: (after - before) / 2 ** 20, peakMiB: process.resourceUsage().maxRSS / 1024 - before / 2 ** 20, weightsMiB: engine.report.weightsBytes / 2 ** 20 }));
}

void main();
