/**
 * One measurement of `npm run bench -- quant` in a fresh process (so that its resident
 * memory is its own): `load` times a load (the first quantizes), `run` loads from the graph
 * cache and runs the vision tower, a prefill and a greedy decode, `drift` measures the
 * quantized weights' drift from bf16. Prints one JSON object.
 */
import { seededRandom } from '../../server/src/model/checkpoint/tiny';
import type { WeightsPrecision } from '../../server/src/model/graph/quantizedWeights';
import { measureDrift } from '../../server/src/model/runtime/drift';
import { TextEngine } from '../../server/src/model/runtime/engine';
import type { KvCacheChoice } from '../../server/src/model/runtime/runtime';
import { measureKvContexts } from './kvContexts';
import { measureKvDrift } from './kvDrift';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import type { PreparedVideo } from '../../server/src/video/pipeline';

const MiB = 2 ** 20;
const rss = () => process.memoryUsage().rss / MiB;
const peak = () => process.resourceUsage().maxRSS / 1024;

async function main(): Promise<void> {
  const [mode, dir, label, cacheDir, settings] = process.argv.slice(2) as [string, string, string, string, string];
  // `int8-nbits`: int8 through MatMulNBits, the CPU's int8 kernel before the integer GEMM (for comparison).
  const weights = (label === 'int8-nbits' ? 'int8' : label) as WeightsPrecision;
  const { pairs, grid, promptTokens, newTokens, contexts, clip, kvCache, pipeline } = JSON.parse(settings) as { pairs: number; grid: [number, number]; promptTokens: number; newTokens: number; contexts: number[]; clip?: string; kvCache?: KvCacheChoice; pipeline?: boolean };
  const options = { executionProvider: 'cpu' as const, weights, cacheDir, kvCache, ...(label === 'int8-nbits' ? { int8Kernel: 'blockwise' as const } : {}) };
  if (mode === 'kv-contexts') {
    process.stdout.write(JSON.stringify({ rows: await measureKvContexts(dir, options, contexts) }));
    return;
  }
  if (mode === 'kv-drift') {
    process.stdout.write(JSON.stringify({ rows: await measureKvDrift(dir, options, contexts) }));
    return;
  }
  if (mode === 'contexts') {
    // Decode time per token after contexts of each length (docs/benchmarks.md: decoding
    // should not slow with the context much beyond reading the cache).
    const engine = await TextEngine.load(dir, options);
    (engine.stopIds as number[]).length = 0;
    const longest = Math.max(...contexts);
    const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(Math.ceil(longest / 10));
    const all = engine.tokenizer.encode(words);
    await engine.generate(all.slice(0, 16), { maxNewTokens: 17 }); // warm-up
    const rows: Record<string, number>[] = [];
    for (const context of contexts) {
      const prompt = all.slice(0, context);
      const loop = await engine.generate(prompt, { maxNewTokens: newTokens });
      const single = await engine.generate(prompt, { maxNewTokens: 8, loopSteps: 1 });
      rows.push({ context, prefillMs: loop.prefillMs, loopMsPerToken: loop.decodeMs / loop.ids.length, singleMsPerToken: single.decodeMs / single.ids.length, peakMiB: peak() });
    }
    process.stdout.write(JSON.stringify({ rows }));
    return;
  }
  if (mode === 'caption') {
    // A whole caption of the video file `clip`: load,
    // video stages, vision tower, prefill, greedy decode, wall time and peak memory.
    const started = performance.now();
    const model = await VideoModel.load(dir, options);
    const loadMs = performance.now() - started;
    (model.text.stopIds as number[]).length = 0; // a random checkpoint: decode every token asked for
    const captionStarted = performance.now();
    const result = await model.caption(clip!, { sampling: TRAINING_DEFAULTS, maxNewTokens: newTokens, pipeline });
    const captionMs = performance.now() - captionStarted;
    const video = result.run.prepared.timings;
    const stages = result.run.timings;
    process.stdout.write(JSON.stringify({
      loadMs, quantizeMs: model.text.report.quantizeMs + model.visionReport.quantizeMs, captionMs, promptTokens: result.run.prompt.ids.length,
      video: video.probe + video.decodeAndResize + video.patchify, vision: stages.vision, prefill: stages.prefill, decode: stages.decode, tokens: stages.tokens, peakMiB: peak(),
    }));
    return;
  }
  if (mode === 'drift') {
    const drift = await measureDrift(dir, weights as 'int8' | 'int4', options);
    process.stdout.write(JSON.stringify(drift));
    return;
  }
  const before = rss();
  let started = performance.now();
  const model = await VideoModel.load(dir, options);
  const loadMs = performance.now() - started;
  const quantizeMs = model.text.report.quantizeMs + model.visionReport.quantizeMs;
  const loadedMiB = rss() - before;
  if (mode === 'load') {
    process.stdout.write(JSON.stringify({ loadMs, quantizeMs, loadedMiB, peakMiB: peak() }));
    return;
  }
  // The vision tower on frame pairs of a 1080p clip's size (576×320: 20 × 36 patches).
  const v = model.text.checkpoint.config.vision;
  const [gh, gw] = grid;
  const columns = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
  const random = seededRandom(2);
  const data = Float32Array.from({ length: pairs * gh * gw * columns }, () => 2 * random.uniform() - 1);
  const video = { pixelValues: { gridThw: [pairs, gh, gw], columns, data } } as unknown as PreparedVideo;
  await model.encode({ pixelValues: { gridThw: [1, gh, gw], columns, data: data.subarray(0, gh * gw * columns) } } as unknown as PreparedVideo); // warm-up
  started = performance.now();
  await model.encode(video, { pairsPerRun: 1 });
  const visionMs = performance.now() - started;
  const engine = model.text;
  (engine.stopIds as number[]).length = 0; // decode every token asked for
  const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(Math.ceil(promptTokens / 10));
  const prompt = engine.tokenizer.encode(words).slice(0, promptTokens);
  await engine.generate(prompt.slice(0, 16), { maxNewTokens: 17 }); // warm-up (both branches)
  const result = await engine.generate(prompt, { maxNewTokens: newTokens });
  process.stdout.write(JSON.stringify({
    loadMs, quantizeMs, loadedMiB, visionMs, prefillMs: result.prefillMs, decodeMsPerToken: result.decodeMs / result.ids.length,
    afterRunMiB: rss() - before, peakMiB: peak(),
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
