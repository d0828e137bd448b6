/**
 * What each execution provider needs: its ONNX Runtime session options, the graph's form
 * (fused or decomposed attention) and its precision. `runtime.ts` chooses among them.
 */
import type * as ort from 'onnxruntime-node';
import type { AttentionKind, KvCacheKind } from '../graph/attention';
import type { Precision } from '../graph/textDecoder';
import type { Int8Kernel, WeightsChoice, WeightsPrecision } from '../graph/quantizedWeights';
import { describeAdapter, type WebGpuAdapter } from './webgpuAdapter';

export type ExecutionProvider = 'cuda' | 'webgpu' | 'cpu';
export type ExecutionProviderChoice = 'auto' | ExecutionProvider;
export type PrecisionChoice = 'auto' | Precision;
export type KvCacheChoice = 'auto' | KvCacheKind;
export const KV_CACHE_CHOICES: readonly KvCacheChoice[] = ['auto', 'float', 'int8'];

/** The providers' names in messages. */
export const PROVIDER_NAMES: Record<ExecutionProvider, string> = { cuda: 'CUDA', webgpu: 'WebGPU', cpu: 'CPU' };

/** The provider asked for cannot run here (missing libraries, no adapter, no fp16 shaders): the user's set-up, not a bug. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** How a graph is built for the provider it will run on. */
export interface GraphTarget {
  /**
   * Attention in both towers: ONNX Runtime's fused GroupQueryAttention and
   * MultiHeadAttention, or standard operators where the fused kernels are not exact
   * (WebGPU: see graph/attention.ts).
   */
  attention: AttentionKind;
  /**
   * The kernel of int8 linear layers: on the CPU the integer GEMM with per-row activations
   * (2–6× float32 at many rows, where MatMulNBits' 8-bit kernel is 1.2–1.4×; docs/engine.md,
   * "Quantized weights") where it sums exactly (integerGemmProbe.ts); elsewhere MatMulNBits,
   * the kernel with GPU implementations.
   */
  int8: Int8Kernel;
  /**
   * What the text decoder's K/V cache holds: floats in the compute type, or 8 bits with a
   * scale per head and token (graph/attention.ts; its integer products are ONNX Runtime CPU
   * kernels).
   */
  kvCache: KvCacheKind;
}

/** What `graphTargetFor` weighs besides the provider. */
export interface TargetChoices {
  /** The K/V cache asked for (default `auto`). */
  kvCache?: KvCacheChoice;
  /** The checkpoint's bytes: `auto` quantizes the cache of large models only. */
  weightsBytes?: number;
  /** The int8 kernel asked for (the bench), or the provider's. */
  int8?: Int8Kernel;
  /**
   * Whether the CPU's integer GEMM sums exactly (integerGemmProbe.ts; default true). Where it
   * saturates, int8 weights take MatMulNBits, `auto` keeps a float cache and `int8` is refused.
   */
  exactIntegerGemm?: boolean;
}

/**
 * The graph's form for a provider. The K/V cache: as asked, or for `auto` 8 bits on the CPU
 * for checkpoints of at least AUTO_QUANTIZE_MIN_BYTES, as the weights (decoding at a 24k
 * context then reads a quarter of the cache's bytes per token; docs/benchmarks.md, "Decode
 * time per token against the context"), and floats elsewhere: small models stay exact
 * against their references. 8 bits anywhere but the CPU is refused in one line (its integer
 * products are not known to run on the GPU providers, whose cache does not cross per token),
 * as on a CPU whose integer GEMM saturates.
 */
export function graphTargetFor(ep: ExecutionProvider, choices: TargetChoices = {}): GraphTarget {
  const { kvCache = 'auto', weightsBytes = 0, exactIntegerGemm = true } = choices;
  if (kvCache === 'int8' && ep !== 'cpu') throw new Error(`the 8-bit K/V cache (--kv-cache int8) runs on the CPU only, not ${PROVIDER_NAMES[ep]}; use --kv-cache auto or float`);
  if (kvCache === 'int8' && !exactIntegerGemm) throw new Error("the 8-bit K/V cache (--kv-cache int8) needs an integer GEMM that sums exactly, and this CPU's saturates (x86 without VNNI); use --kv-cache auto or float");
  const auto = ep === 'cpu' && exactIntegerGemm && weightsBytes >= AUTO_QUANTIZE_MIN_BYTES ? 'int8' : 'float';
  const int8 = choices.int8 ?? (ep === 'cpu' && exactIntegerGemm ? 'integer-gemm' : 'blockwise');
  return { attention: ep === 'webgpu' ? 'decomposed' : 'fused', int8, kvCache: kvCache === 'auto' ? auto : kvCache };
}

/**
 * The graph's precision: as asked, or for `auto` fp16 where the provider computes it natively
 * (CUDA; WebGPU adapters with shader-f16), fp32 elsewhere. fp16 on a WebGPU adapter without
 * shader-f16 cannot run (its shaders would not compile): say so before building anything.
 */
export function precisionFor(ep: ExecutionProvider, asked: PrecisionChoice | undefined, adapter?: WebGpuAdapter): Precision {
  if (ep === 'webgpu' && asked === 'fp16' && !adapter?.shaderF16) {
    throw new Error(`fp16 needs the WebGPU adapter's shader-f16 feature, which ${adapter ? describeAdapter(adapter) : 'this adapter'} lacks; use --precision fp32 or auto`);
  }
  if (asked && asked !== 'auto') return asked;
  return ep === 'cuda' || (ep === 'webgpu' && adapter?.shaderF16) ? 'fp16' : 'fp32';
}

/**
 * The provider's part of the session options. Nodes a provider has no kernel for (shape
 * arithmetic in int64) fall back to the CPU provider after it. On WebGPU the outputs named
 * in `deviceOutputs` stay in GPU memory (`gpu-buffer`), to be fed back as inputs.
 */
export function providerSessionOptions(ep: ExecutionProvider, deviceOutputs: string[] = []): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
    // A failed CUDA attempt is reported in our one line; keep ONNX Runtime's own log quiet.
    ...(ep !== 'cpu' ? { logSeverityLevel: 4 as const } : {}),
    ...(ep === 'webgpu' && deviceOutputs.length ? { preferredOutputLocation: Object.fromEntries(deviceOutputs.map((output) => [output, 'gpu-buffer' as const])) } : {}),
  };
}

/**
 * Weights from which `auto` quantizes on the CPU: a model whose weights are this large
 * spends its decoding reading them (the 2B model: ~4 GiB of bf16, 8.8 GB as float32 per
 * token). Below it, as for the tiny checkpoints, quantizing buys little and costs a first
 * load.
 */
export const AUTO_QUANTIZE_MIN_BYTES = 2 ** 30;

/**
 * The linear layers' weights: as asked, or for `auto` what the measurements justify
 * (docs/benchmarks.md, "Quantized weights"): int8 on the CPU for checkpoints of at least
 * AUTO_QUANTIZE_MIN_BYTES — through the CPU's integer GEMM it prefilled at a median 2.0–2.6×,
 * ran the vision tower at 1.6–1.85× and decoded 2.5–4.3× as fast as bf16 weights in float32
 * (full width, 4 of 24 layers, a loaded machine),
 * with 0.6× the peak memory, and moved a random checkpoint's logits to cosine ≥ 0.994 (top-1
 * 8/8) — and bf16 elsewhere: MatMulNBits has not been measured on a GPU, and a small model
 * gains nothing.
 */
export function weightsFor(ep: ExecutionProvider, asked: WeightsChoice | undefined, weightsBytes: number): WeightsPrecision {
  if (asked && asked !== 'auto') return asked;
  return ep === 'cpu' && weightsBytes >= AUTO_QUANTIZE_MIN_BYTES ? 'int8' : 'bf16';
}
