/**
 * The text engine: a checkpoint's decoder session, its tokenizer, and generation — prefill,
 * then decoding with the hybrid cache (K/V for full attention, conv and recurrent state
 * for DeltaNet layers), greedy or sampled, with stop ids from generation_config.json, a
 * streaming token callback and cancellation between steps.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type Checkpoint, openCheckpoint } from '../checkpoint/checkpoint';
import { CheckpointError } from '../checkpoint/safetensors';
import { createSession, type RuntimeOptions, type SessionReport } from './runtime';
import { DT } from '../graph/onnxGraph';
import { buildTextModel, cacheSpecs, type CacheSpec, NON_FINITE_TOKEN, rotaryTableRows } from '../graph/textDecoder';
import { ModelTokenizer } from '../checkpoint/tokenizer';
import { seededRandom } from '../checkpoint/tiny';

export type Cache = Map<string, ort.Tensor>;

export interface ForwardResult {
  /** Logits rows from `logitsFrom` to the end: [rows × vocab]. */
  logits: Float32Array;
  rows: number;
  cache: Cache;
}

export interface GenerateOptions {
  maxNewTokens?: number;
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Called with each new token id and the text decoded so far. */
  onToken?: (id: number, text: string) => void;
  /** Called with the logits a token is chosen from: the prompt's last position first; later ones only when decoding one run per token. */
  onLogits?: (logits: Float32Array) => void;
  signal?: AbortSignal;
  /** 3-D positions of the prompt ([3][T]); text-only positions when omitted. */
  positions?: number[][];
  /** Decode positions are past length + ropeDelta (0 for text). */
  ropeDelta?: number;
  /** Vision features over placeholder positions. */
  visual?: { embeds: Float32Array; index: number[] };
  /**
   * Greedy tokens per session run (default 16; 1 where the cache stays on the device). Above 1 the graph's decode mode (an ONNX
   * Loop over the cache) generates a block of tokens per run, so the
   * cache crosses the session boundary once per block; tokens stream block by block and
   * cancellation takes effect between blocks. 1: one run per token. Sampling always uses
   * one run per token.
   */
  loopSteps?: number;
  /**
   * Prompt tokens per prefill run (default `defaultPrefillChunk`). Attention scores of a run are
   * [heads × chunk × context]: a 20,000-token video prompt in one run would need tens of GB.
   */
  prefillChunk?: number;
}

export interface GenerateResult {
  ids: number[];
  text: string;
  stopReason: 'stop-token' | 'max-new-tokens';
  prefillMs: number;
  decodeMs: number;
  /** Summed time inside session.run. */
  runMs: number;
}

export class CancelledError extends Error {
  override name = 'CancelledError';
}

async function stopIds(dir: string, tokenizer: ModelTokenizer): Promise<number[]> {
  try {
    const config = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8')) as { eos_token_id?: unknown };
    const eos = config.eos_token_id;
    const ids = Array.isArray(eos) ? eos : eos === undefined ? [] : [eos];
    if (ids.every((id) => Number.isSafeInteger(id))) return ids as number[];
    throw new CheckpointError(`${join(dir, 'generation_config.json')}: eos_token_id must be an integer or a list of integers`);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    return [tokenizer.tokenId('<|im_end|>')];
  }
}

/**
 * Greedy tokens per session run by default where the cache crosses to the host each run
 * (CPU, CUDA): the Loop moves it once per 16 tokens (measured: 1/16 of the bytes, faster).
 */
export const DEFAULT_LOOP_STEPS = 16;

/**
 * Where the cache stays on the device (WebGPU) nothing large crosses per run, and one run per
 * token was measured 2.3× faster than the Loop on an NVIDIA H200 (16.3 vs 7.1 tokens/s at
 * the 2B size; the Loop node runs on the CPU there and waits on the GPU each step).
 */
export function defaultLoopSteps(report: Pick<SessionReport, 'deviceOutputs'>): number {
  return report.deviceOutputs === 'device' ? 1 : DEFAULT_LOOP_STEPS;
}

export function textPositions(start: number, count: number): number[][] {
  const row = Array.from({ length: count }, (_, i) => start + i);
  return [row, row, row];
}

export class TextEngine {
  /** Milliseconds spent inside session.run since load (for overhead measurements). */
  runMs = 0;
  /** Bytes handed to and taken from session.run since load. */
  bytesIn = 0;
  bytesOut = 0;

  private constructor(
    readonly checkpoint: Checkpoint,
    readonly tokenizer: ModelTokenizer,
    readonly session: ort.InferenceSession,
    readonly report: SessionReport,
    readonly stopIds: number[],
    private readonly specs: CacheSpec[],
  ) {}

  static async load(dir: string, options: RuntimeOptions = {}): Promise<TextEngine> {
    options.onLoadProgress?.('checkpoint', `reading ${dir}`);
    const checkpoint = await openCheckpoint(dir);
    const tokenizer = await ModelTokenizer.load(dir);
    // The cache stays on the GPU where the provider allows it (WebGPU): only logits cross.
    const deviceOutputs = cacheSpecs(checkpoint.config.text).map((spec) => spec.output);
    const { session, report } = await createSession(checkpoint, (location, precision, target, quantized) => buildTextModel(checkpoint, location, precision, target.attention, quantized, target.kvCache), 'text-model', { deviceOutputs, ...options });
    return new TextEngine(checkpoint, tokenizer, session, report, await stopIds(dir, tokenizer), cacheSpecs(checkpoint.config.text, report.precision, report.target.kvCache));
  }

  /**
   * Prompt tokens per prefill run by default: 2048; 512 where attention is decomposed
   * (WebGPU), whose float32 scores [heads × chunk × context] are held whole, with the mask
   * and softmax beside them: for Qwen3.5-2B's 8 query heads over 20,000 tokens of context
   * that is 0.33 GB per tensor at 512 instead of 1.3 GB.
   */
  get defaultPrefillChunk(): number {
    return this.report.target.attention === 'decomposed' ? 512 : 2048;
  }

  get vocabSize(): number {
    return this.checkpoint.config.text.vocabSize;
  }

  emptyCache(): Cache {
    const cache: Cache = new Map();
    for (const spec of this.specs) {
      const dims = spec.dims.map((d) => (d === 'past' ? 0 : (d as number)));
      const size = dims.reduce((a, b) => a * b, 1);
      // float16 tensors carry their bit patterns in a Uint16Array (zeros are zeros); an 8-bit K/V cache is uint8.
      cache.set(spec.input, spec.elemType === DT.FLOAT16 ? new ort.Tensor('float16', new Uint16Array(size), dims)
        : spec.elemType === DT.UINT8 ? new ort.Tensor('uint8', new Uint8Array(size), dims)
          : new ort.Tensor('float32', new Float32Array(size), dims));
    }
    return cache;
  }

  /** One session run with the cache fed in; counts its time and the bytes crossing the boundary. */
  private async run(feeds: Record<string, ort.Tensor>, cache: Cache): Promise<{ out: ort.InferenceSession.OnnxValueMapType; cache: Cache }> {
    for (const [name, tensor] of cache) feeds[name] = tensor;
    this.bytesIn += hostBytes(Object.values(feeds));
    const started = performance.now();
    const out = await this.session.run(feeds);
    this.runMs += performance.now() - started;
    this.bytesOut += hostBytes(Object.values(out));
    const next: Cache = new Map();
    for (const spec of this.specs) next.set(spec.input, out[spec.output]);
    return { out, cache: next };
  }

  /** The rotary tables have a row per position up to max_position_embeddings: say so plainly before a run fails on it. */
  private checkPosition(last: number): void {
    const rows = rotaryTableRows(this.checkpoint.config.text);
    if (last >= rows) {
      throw new Error(`${this.checkpoint.dir}: position ${last} is beyond the ${rows} positions this model supports (max_position_embeddings); use a shorter prompt or shorter video windows`);
    }
  }

  /**
   * Non-finite logits mean the arithmetic overflowed: in fp16, activations beyond its range
   * (65,504), which bf16-trained weights may produce; otherwise broken weights. Tokens
   * chosen from them would be garbage, so stop with the remedy instead. Forward runs are
   * checked here; the decode loop checks each step in the graph (NON_FINITE_TOKEN).
   */
  private checkFinite(logits: Float32Array): void {
    for (let i = 0; i < logits.length; i++) {
      if (!Number.isFinite(logits[i])) {
        const remedy = this.report.precision === 'fp16' ? 'activations overflowed float16; run with --precision fp32 (setting videoScan.model.precision)' : 'the weights may be damaged';
        throw new Error(`${this.checkpoint.dir}: the model computed non-finite logits (${logits[i]}): ${remedy}`);
      }
    }
  }

  /** One session run over `ids` after `cache`. */
  async forward(ids: readonly number[], positions: number[][], cache: Cache, logitsFrom: number, visual?: GenerateOptions['visual']): Promise<ForwardResult> {
    const T = ids.length;
    this.checkPosition(positions.reduce((m, row) => row.reduce((a, b) => Math.max(a, b), m), 0));
    const hidden = this.checkpoint.config.text.hiddenSize;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(positions.flat(), (v) => BigInt(v)), [3, 1, T]),
      visual_embeds: new ort.Tensor('float32', visual?.embeds ?? new Float32Array(0), [visual?.index.length ?? 0, hidden]),
      visual_index: new ort.Tensor('int64', BigInt64Array.from(visual?.index ?? [], (v) => BigInt(v)), [visual?.index.length ?? 0, 1]),
      logits_start: new ort.Tensor('int64', BigInt64Array.from([BigInt(logitsFrom)]), [1]),
      ...this.idleLoopInputs(),
      forward: new ort.Tensor('bool', Uint8Array.from([1]), []),
    };
    const { out, cache: next } = await this.run(feeds, cache);
    const logits = out.logits.data as Float32Array;
    this.checkFinite(logits);
    return { logits, rows: logits.length / this.vocabSize, cache: next };
  }

  /** Runs the prompt through the decoder in chunks; returns the last chunk's result (its last row of logits). */
  async prefill(ids: readonly number[], positions: number[][], visual: GenerateOptions['visual'], chunk: number, signal?: AbortSignal): Promise<ForwardResult> {
    const hidden = this.checkpoint.config.text.hiddenSize;
    let cache = this.emptyCache();
    let result: ForwardResult | undefined;
    for (let start = 0; start < ids.length; start += chunk) {
      if (signal?.aborted) throw new CancelledError('generation cancelled');
      const end = Math.min(ids.length, start + chunk);
      let part: GenerateOptions['visual'];
      if (visual) {
        // The features of the placeholders inside this chunk, re-indexed from its start.
        const first = visual.index.findIndex((i) => i >= start);
        let last = first;
        while (last >= 0 && last < visual.index.length && visual.index[last] < end) last++;
        if (first >= 0 && last > first) {
          part = { embeds: visual.embeds.subarray(first * hidden, last * hidden), index: visual.index.slice(first, last).map((i) => i - start) };
        }
      }
      result = await this.forward(ids.slice(start, end), positions.map((row) => row.slice(start, end)), cache, end - start - 1, part);
      releaseCache(cache);
      cache = result.cache;
    }
    return result!;
  }

  /** Placeholders for the decode-loop inputs in forward mode (the If branch ignores them). */
  private idleLoopInputs(): Record<string, ort.Tensor> {
    return {
      token: new ort.Tensor('int64', new BigInt64Array(1), [1, 1]),
      position: new ort.Tensor('int64', new BigInt64Array(1), [1]),
      steps: new ort.Tensor('int64', new BigInt64Array(1), []),
      stop_ids: new ort.Tensor('int64', BigInt64Array.from([-1n]), [1]),
    };
  }

  /** Placeholders for the forward inputs in decode mode. */
  private idleForwardInputs(): Record<string, ort.Tensor> {
    return {
      input_ids: new ort.Tensor('int64', new BigInt64Array(1), [1, 1]),
      position_ids: new ort.Tensor('int64', new BigInt64Array(3), [3, 1, 1]),
      visual_embeds: new ort.Tensor('float32', new Float32Array(0), [0, this.checkpoint.config.text.hiddenSize]),
      visual_index: new ort.Tensor('int64', new BigInt64Array(0), [0, 1]),
      logits_start: new ort.Tensor('int64', new BigInt64Array(1), [1]),
    };
  }

  /** Up to `steps` greedy tokens after `token` (at `position`) in one run, in decode mode. */
  async decodeBlock(token: number, position: number, cache: Cache, steps: number): Promise<{ tokens: number[]; cache: Cache }> {
    const stops = this.stopIds.length ? this.stopIds : [-1];
    this.checkPosition(position + steps - 1);
    const feeds: Record<string, ort.Tensor> = {
      ...this.idleForwardInputs(),
      forward: new ort.Tensor('bool', Uint8Array.from([0]), []),
      token: new ort.Tensor('int64', BigInt64Array.from([BigInt(token)]), [1, 1]),
      position: new ort.Tensor('int64', BigInt64Array.from([BigInt(position)]), [1]),
      steps: new ort.Tensor('int64', BigInt64Array.from([BigInt(steps)]), []),
      stop_ids: new ort.Tensor('int64', BigInt64Array.from(stops, (v) => BigInt(v)), [stops.length]),
    };
    const { out, cache: next } = await this.run(feeds, cache);
    const tokens = Array.from(out.tokens.data as BigInt64Array, Number);
    if (tokens.includes(NON_FINITE_TOKEN)) this.checkFinite(Float32Array.of(NaN));
    return { tokens, cache: next };
  }

  async generate(promptIds: readonly number[], options: GenerateOptions = {}): Promise<GenerateResult> {
    const maxNew = options.maxNewTokens ?? 256;
    const random = seededRandom(options.seed ?? 0);
    const positions = options.positions ?? textPositions(0, promptIds.length);
    const delta = options.ropeDelta ?? 0;
    const runBefore = this.runMs;
    let started = performance.now();
    let step = await this.prefill(promptIds, positions, options.visual, options.prefillChunk ?? this.defaultPrefillChunk, options.signal);
    const prefillMs = performance.now() - started;
    started = performance.now();
    const ids: number[] = [];
    let past = promptIds.length;
    let stopReason: GenerateResult['stopReason'] = 'max-new-tokens';
    const loopSteps = options.doSample ? 1 : Math.max(1, options.loopSteps ?? defaultLoopSteps(this.report));
    if (loopSteps > 1) {
      // The first token comes from the prefill; then blocks of greedy tokens per run
      // (whose logits stay inside the graph: onLogits sees the prefill's row only).
      const row = step.logits.subarray((step.rows - 1) * this.vocabSize, step.rows * this.vocabSize);
      options.onLogits?.(row);
      let token = argmax(row);
      let cache = step.cache;
      while (!this.stopIds.includes(token)) {
        ids.push(token);
        options.onToken?.(token, this.tokenizer.decode(ids));
        if (ids.length >= maxNew) break;
        if (options.signal?.aborted) throw new CancelledError('generation cancelled');
        const block = await this.decodeBlock(token, past + delta, cache, Math.min(loopSteps, maxNew - ids.length + 1));
        releaseCache(cache);
        cache = block.cache;
        past += block.tokens.length;
        const stopAt = block.tokens.findIndex((id) => this.stopIds.includes(id));
        const kept = stopAt >= 0 ? block.tokens.slice(0, stopAt) : block.tokens;
        for (const id of kept.slice(0, -1)) {
          if (ids.length >= maxNew) break;
          ids.push(id);
          options.onToken?.(id, this.tokenizer.decode(ids));
        }
        if (stopAt >= 0) {
          if (kept.length && ids.length < maxNew) {
            ids.push(kept[kept.length - 1]);
            options.onToken?.(kept[kept.length - 1], this.tokenizer.decode(ids));
          }
          stopReason = 'stop-token';
          break;
        }
        // The block's last token has not been fed to the model yet: it starts the next block.
        token = block.tokens[block.tokens.length - 1];
        if (ids.length >= maxNew) break;
      }
      if (this.stopIds.includes(token) && stopReason !== 'stop-token') stopReason = 'stop-token';
      return { ids, text: this.tokenizer.decode(ids), stopReason, prefillMs, decodeMs: performance.now() - started, runMs: this.runMs - runBefore };
    }
    while (ids.length < maxNew) {
      if (options.signal?.aborted) throw new CancelledError('generation cancelled');
      const row = step.logits.subarray((step.rows - 1) * this.vocabSize, step.rows * this.vocabSize);
      options.onLogits?.(row);
      const id = options.doSample ? sample(row, options.temperature ?? 1, options.topP ?? 1, random.uniform) : argmax(row);
      if (this.stopIds.includes(id)) {
        stopReason = 'stop-token';
        break;
      }
      ids.push(id);
      options.onToken?.(id, this.tokenizer.decode(ids));
      if (ids.length >= maxNew) break;
      const previous = step.cache;
      step = await this.forward([id], textPositions(past + delta, 1), previous, 0);
      releaseCache(previous);
      past++;
    }
    return { ids, text: this.tokenizer.decode(ids), stopReason, prefillMs, decodeMs: performance.now() - started, runMs: this.runMs - runBefore };
  }
}

/**
 * Frees the device memory of a cache the next run has replaced (a no-op for host tensors,
 * which the garbage collector reclaims). Generation calls it; callers that keep a cache to
 * branch from it (model check) leave it alone.
 */
export function releaseCache(cache: Cache): void {
  for (const tensor of cache.values()) if (tensor.location === 'gpu-buffer') tensor.dispose();
}

/** Bytes of the tensors that live in host memory (a cache kept on the GPU crosses nothing). */
function hostBytes(tensors: ort.OnnxValue[]): number {
  let bytes = 0;
  for (const tensor of tensors) if (tensor.location === 'cpu' || tensor.location === 'cpu-pinned') bytes += (tensor.data as ArrayBufferView).byteLength;
  return bytes;
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Temperature, then nucleus (top-p) sampling with the given uniform source. */
export function sample(row: Float32Array, temperature: number, topP: number, uniform: () => number): number {
  if (temperature <= 0) return argmax(row);
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const probs = Array.from(row, (v, i) => ({ i, p: Math.exp((v - max) / temperature) }));
  const total = probs.reduce((a, b) => a + b.p, 0);
  probs.sort((a, b) => b.p - a.p || a.i - b.i);
  const kept: typeof probs = [];
  let mass = 0;
  for (const entry of probs) {
    kept.push(entry);
    mass += entry.p / total;
    if (mass >= topP) break;
  }
  const keptTotal = kept.reduce((a, b) => a + b.p, 0);
  let r = uniform() * keptTotal;
  for (const entry of kept) {
    r -= entry.p;
    if (r <= 0) return entry.i;
  }
  return kept[kept.length - 1].i;
}
