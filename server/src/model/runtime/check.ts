/**
 * `vscan model check`: loads a checkpoint, runs a short chat prompt, and compares prefill +
 * incremental decoding against one full recomputation of the same tokens — the cache
 * (K/V, conv and recurrent state) must reproduce the logits a cache-free pass computes —
 * and the in-graph decode loop (the default for greedy generation) against the tokens of
 * one run per token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmax, releaseCache, TextEngine, textPositions } from './engine';
import { readNodePlacement } from './placement';
import type { GraphTarget, RuntimeOptions, SessionReport } from './runtime';
import type { WebGpuAdapter } from './webgpuAdapter';
import type { Precision } from '../graph/textDecoder';
import type { WeightsPrecision } from '../graph/quantizedWeights';
import { type DriftReport, measureDrift } from './drift';

export interface CheckReport {
  ok: boolean;
  executionProvider: string;
  /** The WebGPU adapter (vendor, architecture, backend, software or not, shader-f16). */
  adapter?: WebGpuAdapter;
  precision: Precision;
  /** The linear layers' weights and their scheme. */
  weights: WeightsPrecision;
  weightsScheme: string;
  /** Quantized weights only: their drift from the bf16 weights on the same provider and precision. */
  drift?: DriftReport;
  /** How the graph was built for the provider (attention: fused or decomposed). */
  target: GraphTarget;
  fallbackReason?: string;
  /** Op types ONNX Runtime ran on the CPU during the check (from its profiler). */
  cpuNodes: string[];
  maxAbsLogitDiff: number;
  /** The largest difference allowed at this precision. */
  tolerance: number;
  tokensMatch: boolean;
  /**
   * The decode loop's greedy tokens equal those of one run per token (up to a stop id it
   * met), and the cache it hands back gives the same next logits (within the tolerance).
   */
  loopMatches: boolean;
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

/**
 * The same with an 8-bit K/V cache: both paths read the same 8-bit K/V (prefill quantizes
 * its new tokens' K/V before attending to them), but cached decoding multiplies them with
 * integer products of a 15-bit split of the query and the weights (graph/attention.ts),
 * where prefill dequantizes them for GroupQueryAttention: 1.3×10⁻⁴ measured on the tiny
 * checkpoint.
 */
export const INT8_KV_CHECK_TOLERANCE = 1e-3;

export function checkTolerance(report: Pick<SessionReport, 'precision' | 'target'>): number {
  const tolerance = CHECK_TOLERANCE[report.precision];
  return report.target.kvCache === 'int8' ? Math.max(tolerance, INT8_KV_CHECK_TOLERANCE) : tolerance;
}

export async function checkModel(dir: string, options: RuntimeOptions & { steps?: number } = {}): Promise<CheckReport> {
  // The profiler's trace says where each operator ran; it lives in a folder of its own.
  const profileDir = await mkdtemp(join(tmpdir(), 'vscan-check-'));
  try {
    const report = await runCheck(dir, { ...options, profileDir });
    if (report.weights === 'bf16') return report;
    // Same provider and precision as the check's own load, so that only the weights differ.
    const drift = await measureDrift(dir, report.weights, { ...options, executionProvider: report.executionProvider as RuntimeOptions['executionProvider'], precision: report.precision });
    return { ...report, drift, ok: report.ok && drift.ok };
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

async function runCheck(dir: string, options: RuntimeOptions & { steps?: number; profileDir: string }): Promise<CheckReport> {
  const engine = await TextEngine.load(dir, options);
  const prompt = engine.tokenizer.encode(await engine.tokenizer.renderChat([{ role: 'user', content: 'Describe the video: a dog runs across a park, then stops.' }]));
  const steps = options.steps ?? 8;
  const V = engine.vocabSize;

  // Incremental: prefill, then one token per run, greedy, ignoring stop tokens.
  let started = performance.now();
  let step = await engine.forward(prompt, textPositions(0, prompt.length), engine.emptyCache(), prompt.length - 1);
  const prefillMs = performance.now() - started;
  const prefillCache = step.cache;
  const incremental: Float32Array[] = [step.logits.slice(0, V)];
  const tokens: number[] = [];
  started = performance.now();
  for (let i = 0; i < steps; i++) {
    const id = argmax(incremental[incremental.length - 1]);
    tokens.push(id);
    const previous = step.cache;
    step = await engine.forward([id], textPositions(prompt.length + i, 1), previous, 0);
    // GPU caches are freed as soon as they are replaced; the prefill's feeds the loop below.
    if (previous !== prefillCache) releaseCache(previous);
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
  // The decode loop from the same prefill: blocks of 4 tokens, fed the first token (a stop
  // id it meets ends it early, so compare what it produced).
  const looped: number[] = [];
  let cache = prefillCache;
  while (looped.length < steps - 1) {
    const last = looped.length ? looped[looped.length - 1] : tokens[0];
    const block = await engine.decodeBlock(last, prompt.length + looped.length, cache, Math.min(4, steps - 1 - looped.length));
    looped.push(...block.tokens);
    cache = block.cache;
    if (block.tokens.some((id) => engine.stopIds.includes(id))) break;
  }
  const tolerance = checkTolerance(engine.report);
  let loopMatches = looped.every((id, i) => id === tokens[i + 1]);
  if (loopMatches && looped.length === steps - 1) {
    // Feed the loop's last token on the loop's cache: the logits must be those of the last
    // per-token step (same tokens, same positions).
    const next = await engine.forward([looped[looped.length - 1]], textPositions(prompt.length + steps - 1, 1), cache, 0);
    for (let j = 0; j < V; j++) if (!(Math.abs(next.logits[j] - incremental[steps][j]) < tolerance)) loopMatches = false;
  }
  const placement = await readNodePlacement(engine.session, options.profileDir);
  return {
    ok: tokensMatch && loopMatches && maxAbsLogitDiff < tolerance,
    executionProvider: engine.report.executionProvider,
    ...(engine.report.adapter ? { adapter: engine.report.adapter } : {}),
    precision: engine.report.precision,
    weights: engine.report.weights,
    weightsScheme: engine.report.weightsScheme,
    target: engine.report.target,
    cpuNodes: placement.cpu,
    ...(engine.report.fallbackReason ? { fallbackReason: engine.report.fallbackReason } : {}),
    maxAbsLogitDiff,
    tolerance,
    tokensMatch,
    loopMatches,
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
