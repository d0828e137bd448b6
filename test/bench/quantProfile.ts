/**
 * Where int8 and fp32 (bf16 weights) spend the vision tower's and the prefill's time, by
 * operator type, from ONNX Runtime's profiler (docs/benchmarks.md, "Where the time goes").
 * One process per weights: `node --import tsx test/bench/quantProfile.ts DIR WEIGHTS CACHE
 * PROFILE_DIR [PROMPT_TOKENS]` loads DIR (a checkpoint from writeRandomCheckpoint), runs a
 * warm-up, then the vision tower on 2 frame pairs of 20×36 patches and a prefill of
 * PROMPT_TOKENS text tokens with profiling on, and prints per session the milliseconds per
 * op type (kernel time summed over the timed runs) as JSON.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { seededRandom } from '../../server/src/model/checkpoint/tiny';
import type { WeightsPrecision } from '../../server/src/model/graph/quantizedWeights';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import type { PreparedVideo } from '../../server/src/video/pipeline';

interface TraceEvent { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }

/** Kernel microseconds per op type of the profile file(s) whose names start with `prefix`, runs after the first `skipRuns` only. */
async function byOpType(dir: string, prefix: string, skipRuns: number): Promise<{ ops: Record<string, number>; runMs: number[] }> {
  const ops: Record<string, number> = {};
  const runMs: number[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
    const events = JSON.parse(await readFile(join(dir, name), 'utf8')) as TraceEvent[];
    let run = -1;
    for (const event of events) {
      // Session-level "model_run" events bracket each run; kernels of a run follow its start in the trace order.
      if (event.cat === 'Session' && event.name === 'model_run') { run += 1; if (run >= skipRuns) runMs.push((event.dur ?? 0) / 1000); }
    }
    // Kernel events come before their run's model_run event (it is written at the run's end): count runs as we pass them.
    let seenRuns = 0;
    for (const event of events) {
      if (event.cat === 'Session' && event.name === 'model_run') { seenRuns += 1; continue; }
      if (event.cat !== 'Node' || !event.name?.endsWith('_kernel_time') || seenRuns < skipRuns) continue;
      const op = event.args?.op_name ?? '?';
      ops[op] = (ops[op] ?? 0) + (event.dur ?? 0) / 1000;
    }
  }
  return { ops, runMs };
}

async function main(): Promise<void> {
  const [dir, weights, cacheDir, profileDir, tokens] = process.argv.slice(2) as [string, WeightsPrecision, string, string, string?];
  const promptTokens = Number(tokens ?? 2048);
  await rm(profileDir, { recursive: true, force: true });
  await mkdir(profileDir, { recursive: true });
  const model = await VideoModel.load(dir, { executionProvider: 'cpu', weights, cacheDir, profileDir });
  const v = model.text.checkpoint.config.vision;
  const [gh, gw, pairs] = [20, 36, 2];
  const columns = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
  const random = seededRandom(2);
  const data = Float32Array.from({ length: pairs * gh * gw * columns }, () => 2 * random.uniform() - 1);
  const frames = (n: number) => ({ pixelValues: { gridThw: [n, gh, gw], columns, data: data.subarray(0, n * gh * gw * columns) } }) as unknown as PreparedVideo;
  await model.encode(frames(1)); // warm-up: 1 run
  let started = performance.now();
  await model.encode(frames(pairs), { pairsPerRun: 1 });
  const visionMs = performance.now() - started;
  const engine = model.text;
  (engine.stopIds as number[]).length = 0;
  const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(Math.ceil(promptTokens / 10));
  const prompt = engine.tokenizer.encode(words).slice(0, promptTokens);
  await engine.generate(prompt.slice(0, 16), { maxNewTokens: 1 }); // warm-up: one prefill run
  started = performance.now();
  const result = await engine.generate(prompt, { maxNewTokens: 1 });
  const prefillWallMs = performance.now() - started;
  await (model.vision as ort.InferenceSession).endProfiling();
  await engine.session.endProfiling();
  const vision = await byOpType(profileDir, 'vision-encoder', 1);
  const text = await byOpType(profileDir, 'text-model', 1);
  process.stdout.write(JSON.stringify({ weights, promptTokens, visionMs, prefillMs: result.prefillMs, prefillWallMs, vision, text }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
