/**
 * Engine benchmark on CPU: the tiny checkpoint and a mid-size random one (hidden 512,
 * 8 layers). Prefill and decode tokens/s, engine overhead (wall time / summed session.run
 * time), and bytes crossing the session boundary per generated token.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TextEngine } from '../../server/src/model/runtime/engine';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { tempDir } from '../helpers/videos';
import { median, type Table, timeMs } from './stats';

export async function benchEngine(tables: Table[]): Promise<void> {
  const dir = await tempDir('vscan-bench-engine-');
  const rows: string[][] = [];
  const mid = { hiddenSize: 512, numLayers: 8, intermediateSize: 1024 };
  // fp16 on CPU is emulated (ONNX Runtime casts around kernels it lacks), so its row is
  // there for the bytes that cross the boundary, not for its speed.
  for (const [label, options, precision] of [['tiny (hidden 64, 4 layers)', {}, 'fp32'], ['mid (hidden 512, 8 layers)', mid, 'fp32'], ['mid (hidden 512, 8 layers), fp16', mid, 'fp16']] as const) {
    const folder = join(dir, label.split(' ')[0]);
    await writeTinyCheckpoint(folder, { seed: 1, ...options });
    const engine = await TextEngine.load(folder, { executionProvider: 'cpu', cacheDir: join(dir, 'cache'), precision });
    const words = 'the dog runs across the park and stops near a bench while people walk by '.repeat(40);
    const prompt = engine.tokenizer.encode(words).slice(0, 512);
    await engine.generate(prompt, { maxNewTokens: 4 }); // warm up
    // Decode tokens/s from a run that never stops early: stop ids are ignored by clearing them.
    (engine.stopIds as number[]).length = 0;
    for (const loopSteps of [1, 16]) {
      await engine.generate(prompt, { maxNewTokens: 4, loopSteps }); // warm up (and load the loop session)
      const runBefore = engine.runMs;
      const inBefore = engine.bytesIn;
      const outBefore = engine.bytesOut;
      const started = performance.now();
      const result = await engine.generate(prompt, { maxNewTokens: 64, loopSteps });
      const wall = performance.now() - started;
      const runMs = engine.runMs - runBefore;
      // Bytes per generated token during decoding (the prefill's own transfer excluded).
      const prefillBytes = prompt.length * 8 * 4 + cacheBytes(engine, prompt.length);
      const bytes = (engine.bytesIn - inBefore + engine.bytesOut - outBefore - prefillBytes) / result.ids.length;
      rows.push([label, loopSteps === 1 ? 'one run per token' : `${loopSteps} tokens per run (Loop)`, String(prompt.length), (prompt.length / (result.prefillMs / 1000)).toFixed(0),
        (result.ids.length / (result.decodeMs / 1000)).toFixed(1), (wall / runMs).toFixed(3), `${(bytes / 1024).toFixed(0)} KiB`]);
    }
  }
  tables.push({
    title: 'Engine on CPU (ONNX Runtime 1.30)',
    head: ['checkpoint', 'decoding', 'prompt tokens', 'prefill tok/s', 'decode tok/s', 'overhead (wall / Σ session.run)', 'bytes across the boundary per token'],
    rows,
    notes: ['Greedy, 64 new tokens after a 512-token prompt. Bytes per token: every input and output tensor of the decoding runs (the cache crosses the boundary on each run; onnxruntime-node copies it each way), divided by the tokens generated.'],
  });
}

/**
 * Resident memory added by loading the text engine, against the bf16 weight file in the same
 * run: one float32 copy is 2× the file, one float16 copy 1×. Each load in a fresh process.
 */
export async function benchEngineMemory(tables: Table[]): Promise<void> {
  const dir = await tempDir('vscan-bench-memory-');
  const folder = join(dir, 'model');
  await writeTinyCheckpoint(folder, { seed: 1, hiddenSize: 1024, numLayers: 8, intermediateSize: 4096 });
  const rows: string[][] = [];
  for (const precision of ['fp32', 'fp16']) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'engineMemoryChild.ts'), folder, precision, join(dir, 'cache')], { encoding: 'utf8', timeout: 600_000 });
    if (child.status !== 0) throw new Error(child.stderr);
    const { loadedMiB, peakMiB, weightsMiB } = JSON.parse(child.stdout) as { loadedMiB: number; peakMiB: number; weightsMiB: number };
    rows.push([precision, weightsMiB.toFixed(0), loadedMiB.toFixed(0), peakMiB.toFixed(0), `${(loadedMiB / weightsMiB).toFixed(2)}×`, precision === 'fp32' ? '2×' : '1×']);
  }
  tables.push({
    title: 'Engine memory on CPU: a random checkpoint with hidden 1024, 8 layers, MLP 4096 (MiB)',
    head: ['precision', 'bf16 weight file', 'resident after load', 'peak during load', 'after load / file', 'one copy of the weights would be'],
    rows,
    notes: ['Resident set of a fresh process before and after TextEngine.load; the file is mapped, not read, so only converted weights count.'],
  });
}

/** Bytes of the cache after `tokens` tokens (what the prefill run hands back). */
function cacheBytes(engine: TextEngine, tokens: number): number {
  let total = 0;
  for (const tensor of engine.emptyCache().values()) {
    const dims = tensor.dims.map((d) => (d === 0 ? tokens : d));
    total += dims.reduce((a, b) => a * b, 1) * (tensor.type === 'float16' ? 2 : 4);
  }
  // Logits of the last prompt position.
  return total + engine.vocabSize * 4;
}

/**
 * What bounding the chat template costs: a render on a fresh worker thread (deadline, heap
 * and output limits, cancellable) against rendering in the calling thread, with the tiny
 * checkpoint's Qwen-style template. Under tsx the worker loads through tsx's loader; the
 * bundled `dist/templateWorker.js` starts faster, so this is an upper bound.
 */
export async function benchTemplateRender(tables: Table[]): Promise<void> {
  const { Template } = await import('@huggingface/jinja');
  const { TINY_CHAT_TEMPLATE } = await import('../../server/src/model/checkpoint/tinyTokenizer');
  const { renderTemplateBounded } = await import('../../server/src/model/checkpoint/templateRender');
  const context = { messages: [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Describe the video.' }] }], add_generation_prompt: true };
  const direct = median(timeMs(50, () => new Template(TINY_CHAT_TEMPLATE).render(context)));
  await renderTemplateBounded(TINY_CHAT_TEMPLATE, context); // warm the loader's cache
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await renderTemplateBounded(TINY_CHAT_TEMPLATE, context);
    times.push(performance.now() - started);
  }
  const bounded = median(times);
  tables.push({
    title: 'Chat template render, bounded worker vs in thread (median ms)',
    head: ['bounded (fresh worker)', 'in the calling thread', 'ratio'],
    rows: [[bounded.toFixed(1), direct.toFixed(3), (bounded / direct).toFixed(0) + '×']],
    notes: ['Once per caption window, next to seconds of vision encoding and generation.'],
  });
}
