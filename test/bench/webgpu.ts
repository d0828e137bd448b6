/**
 * WebGPU on the software adapter (SwiftShader) against the CPU, in one process on the tiny
 * checkpoint: decode speed relative to the CPU, and bytes crossing the session boundary
 * per decoded token with the cache kept on the device or brought to the host each run.
 * SwiftShader runs shaders on the CPU cores, so the ratio says nothing of a real GPU's
 * speed; the bytes are the same on any adapter.
 */
import { join } from 'node:path';
import { TextEngine } from '../../server/src/model/runtime/engine';
import type { RuntimeOptions } from '../../server/src/model/runtime/runtime';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { tempDir } from '../helpers/videos';
import { useSoftwareVulkan } from '../helpers/webgpu';
import { median, type Table } from './stats';

const NEW_TOKENS = 33;
/** Runs per row; the median is reported (the shared machine's speed swings from run to run). */
const REPEATS = 3;

export async function benchWebGpu(tables: Table[]): Promise<void> {
  useSoftwareVulkan();
  const dir = await tempDir('vscan-bench-webgpu-');
  const folder = join(dir, 'tiny');
  await writeTinyCheckpoint(folder, { seed: 1 });
  const configurations: [string, RuntimeOptions][] = [
    ['CPU', { executionProvider: 'cpu' }],
    ['WebGPU, cache to the host each run', { executionProvider: 'webgpu', deviceOutputs: [] }],
    ['WebGPU, cache on the device', { executionProvider: 'webgpu' }],
  ];
  const rows: string[][] = [];
  let cpuTokensPerSec: Record<number, number> = {};
  for (const [label, options] of configurations) {
    const engine = await TextEngine.load(folder, { ...options, cacheDir: join(dir, 'cache') });
    const prompt = engine.tokenizer.encode('the dog runs across the park and stops near a bench while people walk by '.repeat(4)).slice(0, 48);
    (engine.stopIds as number[]).length = 0; // never stop early
    for (const loopSteps of [1, 8]) {
      await engine.generate(prompt, { maxNewTokens: 3, loopSteps }); // warm up: shaders compiled, buffers pooled
      // Decoding alone: a run of N new tokens minus a run of 1 (the prefill and its first token).
      const before = engine.bytesIn + engine.bytesOut;
      await engine.generate(prompt, { maxNewTokens: 1, loopSteps });
      const prefillBytes = engine.bytesIn + engine.bytesOut - before;
      const speeds: number[] = [];
      let decodeBytes = 0;
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        const start = engine.bytesIn + engine.bytesOut;
        const result = await engine.generate(prompt, { maxNewTokens: NEW_TOKENS, loopSteps });
        decodeBytes = engine.bytesIn + engine.bytesOut - start - prefillBytes;
        speeds.push(result.ids.length / (result.decodeMs / 1000));
      }
      const tokensPerSec = median(speeds);
      if (label === 'CPU') cpuTokensPerSec = { ...cpuTokensPerSec, [loopSteps]: tokensPerSec };
      rows.push([label, loopSteps === 1 ? 'one run per token' : `${loopSteps} tokens per run (Loop)`, tokensPerSec.toFixed(2), `${(tokensPerSec / cpuTokensPerSec[loopSteps]).toFixed(3)}×`,
        `${(decodeBytes / (NEW_TOKENS - 1)).toFixed(0)} B`, `${engine.vocabSize * 4} B`]);
    }
  }
  tables.push({
    title: 'Engine on WebGPU (SwiftShader, software Vulkan) against the CPU, tiny checkpoint',
    head: ['provider', 'decoding', 'decode tok/s', 'speed / CPU (same decoding)', 'bytes across the boundary per decoded token', 'one logits row'],
    rows,
    notes: [`Greedy, ${NEW_TOKENS} new tokens after a 48-token prompt, fp32, median of ${REPEATS} runs. Bytes: every host tensor into and out of the decoding runs (a run of ${NEW_TOKENS} new tokens minus a run of 1), per decoded token; inputs (token ids, positions, placeholders) included.`],
  });
}
