/**
 * `vscan model check`: loads a checkpoint, runs a short chat prompt, and compares prefill +
 * incremental decoding against one full recomputation of the same tokens — the cache
 * (K/V, conv and recurrent state) must reproduce the logits a cache-free pass computes.
 */
import { argmax, TextEngine, textPositions } from './engine';
import type { RuntimeOptions } from './runtime';
import type { Precision } from './textDecoder';

export interface CheckReport {
  ok: boolean;
  executionProvider: string;
  precision: Precision;
  fallbackReason?: string;
  maxAbsLogitDiff: number;
  /** The largest difference allowed at this precision. */
  tolerance: number;
  tokensMatch: boolean;
  loadMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  promptTokens: number;
  generatedTokens: number;
  /** What was loaded, from where, how big. */
  loaded: { dir: string; weightsBytes: number; weightFiles: string; modelFile?: string; parameters: number; threads: number | 'default' };
}

/**
 * Allowed |Δlogit| between incremental decoding and a full recomputation. The two take
 * different paths through the kernels (cached attention and the recurrent form of the
 * delta rule vs their prefill forms), so they differ by rounding: ~1e-5 in float32; in
 * float16 each operator rounds to 2^-11 relative, which the layers compound.
 */
export const CHECK_TOLERANCE: Record<Precision, number> = { fp32: 1e-4, fp16: 1e-1 };

export async function checkModel(dir: string, options: RuntimeOptions & { steps?: number } = {}): Promise<CheckReport> {
  const engine = await TextEngine.load(dir, options);
  const prompt = engine.tokenizer.encode(engine.tokenizer.renderChat([{ role: 'user', content: 'Describe the video: a dog runs across a park, then stops.' }]));
  const steps = options.steps ?? 8;
  const V = engine.vocabSize;

  // Incremental: prefill, then one token per run, greedy, ignoring stop tokens.
  let started = performance.now();
  let step = await engine.forward(prompt, textPositions(0, prompt.length), engine.emptyCache(), prompt.length - 1);
  const prefillMs = performance.now() - started;
  const incremental: Float32Array[] = [step.logits.slice(0, V)];
  const tokens: number[] = [];
  started = performance.now();
  for (let i = 0; i < steps; i++) {
    const id = argmax(incremental[incremental.length - 1]);
    tokens.push(id);
    step = await engine.forward([id], textPositions(prompt.length + i, 1), step.cache, 0);
    incremental.push(step.logits.slice(0, V));
  }
  const decodeMs = performance.now() - started;

  // Full recomputation over prompt + generated tokens, logits from the last prompt position on.
  const all = [...prompt, ...tokens];
  const full = await engine.forward(all, textPositions(0, all.length), engine.emptyCache(), prompt.length - 1);
  let maxAbsLogitDiff = 0;
  let tokensMatch = true;
  for (let r = 0; r <= steps; r++) {
    const row = full.logits.subarray(r * V, (r + 1) * V);
    for (let j = 0; j < V; j++) maxAbsLogitDiff = Math.max(maxAbsLogitDiff, Math.abs(row[j] - incremental[r][j]));
    if (r < steps && argmax(row) !== tokens[r]) tokensMatch = false;
  }
  const tolerance = CHECK_TOLERANCE[engine.report.precision];
  return {
    ok: tokensMatch && maxAbsLogitDiff < tolerance,
    executionProvider: engine.report.executionProvider,
    precision: engine.report.precision,
    ...(engine.report.fallbackReason ? { fallbackReason: engine.report.fallbackReason } : {}),
    maxAbsLogitDiff,
    tolerance,
    tokensMatch,
    loadMs: engine.report.loadMs,
    prefillTokensPerSec: prompt.length / (prefillMs / 1000),
    decodeTokensPerSec: steps / (decodeMs / 1000),
    promptTokens: prompt.length,
    generatedTokens: steps,
    loaded: {
      dir,
      weightsBytes: engine.report.weightsBytes,
      weightFiles: engine.report.weightFiles,
      ...(engine.report.modelFile ? { modelFile: engine.report.modelFile } : {}),
      parameters: [...engine.checkpoint.tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0),
      threads: engine.report.threads,
    },
  };
}
