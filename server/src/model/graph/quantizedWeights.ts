/**
 * Quantized linear weights for a graph: which checkpoint tensors become `MatMulNBits` or
 * integer-GEMM weights (blockwise or per column), and where each one's parts lie in one file written beside the graph. The graph
 * builder asks for a tensor (`place`); the first request lays it out at the end of the file,
 * so the same graph always gives the same layout. The runtime writes the file from the
 * safetensors afterwards (runtime/quantizedFile.ts), tensor by tensor.
 */
import { type QuantizedShape, quantizedShape, type QuantScheme } from '../checkpoint/quantize';
import type { TensorInfo } from '../checkpoint/safetensors';

/**
 * What the linear layers' weights are stored as: `bf16` is the checkpoint as it is (cast to
 * the activation type in the graph); `int8` and `int4` are blockwise integers computed with
 * `MatMulNBits`.
 */
export type WeightsPrecision = 'bf16' | 'int8' | 'int4';
export type WeightsChoice = 'auto' | WeightsPrecision;
export const WEIGHTS_CHOICES: readonly WeightsChoice[] = ['auto', 'bf16', 'int8', 'int4'];

/**
 * The schemes, chosen on measurements (docs/engine.md, "Quantized weights"): blocks of 32
 * along K for both; int8 symmetric (zero points bought nothing measurable at 8 bits), int4
 * asymmetric (a third less error than symmetric at the same speed). accuracy_level 4: the
 * CPU kernels quantize activations to int8 per block and use integer dot products (VNNI,
 * AVX2) — 2–4× faster than level 0 and the only fast 8-bit path.
 */
export const QUANT_SCHEMES: Record<Exclude<WeightsPrecision, 'bf16'>, QuantScheme & { accuracyLevel: number }> = {
  int8: { bits: 8, blockSize: 32, symmetric: true, accuracyLevel: 4 },
  int4: { bits: 4, blockSize: 32, symmetric: false, accuracyLevel: 4 },
};

/**
 * accuracy_level 0: MatMulNBits computes in float32 on the dequantized weights — slower,
 * but exactly what the quantized weights stand for, so a float64 reference can hold the
 * graphs to rounding (the tests do; a tiny random model amplifies level 4's int8
 * activations too much for that).
 */
export const EXACT_ACCURACY_LEVEL = 0;

/**
 * Which kernel computes the int8 linear layers. `blockwise`: MatMulNBits (the WebGPU
 * provider's kernel; int4 always). `integer-gemm`: the CPU's — int8 weights per output
 * column, [K, N], and the activations quantized to int8 per row (per token) in the graph,
 * multiplied by ONNX Runtime's u8×s8 integer GEMM (`MatMulIntegerToFloat`), which is
 * 2–6× float32 at the vision tower's and prefill's many rows where MatMulNBits' 8-bit kernel
 * is 1.2–1.4× (docs/engine.md, "Quantized weights"). The tied head stays blockwise there: it
 * only ever sees a few rows, where both kernels are fast, and blocks of 32 drift less.
 */
export type Int8Kernel = 'blockwise' | 'integer-gemm';

/** The kernel a graph's quantized linear layers use: int4 is MatMulNBits everywhere; int8 takes the target's. */
export function linearKernel(precision: WeightsPrecision, int8: Int8Kernel): Int8Kernel {
  return precision === 'int8' ? int8 : 'blockwise';
}

/** How one weight is laid out: MatMulNBits' blocks, or int8 [K, N] with a scale per column. */
export type QuantLayout = 'blockwise' | 'per-column';

/** What a weight is used as: a linear layer over many rows, or the head (the last rows only). */
export type LinearRole = 'linear' | 'head';

/** A scheme in words, for reports and the file name: `int4-b32-asym-acc4`, `int8-col-acc4`. */
export function describeScheme(precision: WeightsPrecision, accuracyLevel?: number, kernel: Int8Kernel = 'blockwise'): string {
  if (precision === 'bf16') return 'bf16';
  const s = QUANT_SCHEMES[precision];
  const level = accuracyLevel ?? s.accuracyLevel;
  if (precision === 'int8' && kernel === 'integer-gemm') return `int8-col-acc${level}`;
  return `${precision}-b${s.blockSize}-${s.symmetric ? 'sym' : 'asym'}-acc${level}`;
}

/** Sizes of one per-column int8 weight [N, K]: B [K, N] bytes, N float32 scales. */
function perColumnShape(n: number, k: number): QuantizedShape {
  return { n, k, kBlocks: 1, blobBytes: k, dataBytes: n * k, scaleBytes: n * 4, zeroPointBytes: 0 };
}

/** Where one tensor's quantized parts lie in the file (byte offsets). */
export interface QuantizedEntry extends QuantizedShape {
  source: TensorInfo;
  layout: QuantLayout;
  dataOffset: number;
  scalesOffset: number;
  zeroPointsOffset: number;
}

/** Parts start on 64-byte boundaries (aligned reads; ONNX Runtime may map them). */
const ALIGN = 64;
const aligned = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export class QuantizedWeights {
  readonly entries: QuantizedEntry[] = [];
  private readonly byName = new Map<string, QuantizedEntry>();
  private end = 0;

  /**
   * @param fileName the file's name beside the graph; it should name the scheme and the
   * source files' identity, so that the graph (and so the cache key) changes with either.
   */
  constructor(
    readonly precision: Exclude<WeightsPrecision, 'bf16'>,
    readonly fileName: string,
    readonly accuracyLevel = QUANT_SCHEMES[precision].accuracyLevel,
    readonly kernel: Int8Kernel = 'blockwise',
  ) {
    if (kernel === 'integer-gemm' && precision !== 'int8') throw new Error(`the integer GEMM takes int8 weights, not ${precision}`);
  }

  /**
   * accuracy_level 0 (EXACT_ACCURACY_LEVEL): float32 arithmetic on the dequantized weights,
   * for either layout.
   */
  get exact(): boolean {
    return this.accuracyLevel === EXACT_ACCURACY_LEVEL;
  }

  layoutFor(role: LinearRole): QuantLayout {
    return this.kernel === 'integer-gemm' && role === 'linear' ? 'per-column' : 'blockwise';
  }

  get scheme(): QuantScheme & { accuracyLevel: number } {
    return { ...QUANT_SCHEMES[this.precision], accuracyLevel: this.accuracyLevel };
  }

  /** The tensor as an [N, K] matrix (N = first dimension, K = the rest), laid out on first request. */
  place(source: TensorInfo, role: LinearRole = 'linear'): QuantizedEntry {
    const layout = this.layoutFor(role);
    let entry = this.byName.get(source.name);
    if (entry && entry.layout !== layout) throw new Error(`${source.name}: asked for as ${layout} after ${entry.layout}`);
    if (!entry) {
      const [n, ...rest] = source.shape;
      const k = rest.reduce((a, b) => a * b, 1);
      const shape = layout === 'per-column' ? perColumnShape(n, k) : quantizedShape(n, k, this.scheme);
      const dataOffset = this.end;
      const scalesOffset = aligned(dataOffset + shape.dataBytes);
      const zeroPointsOffset = aligned(scalesOffset + shape.scaleBytes);
      this.end = aligned(zeroPointsOffset + shape.zeroPointBytes);
      entry = { ...shape, source, layout, dataOffset, scalesOffset, zeroPointsOffset };
      this.entries.push(entry);
      this.byName.set(source.name, entry);
    }
    return entry;
  }

  /** The file's size. */
  get bytes(): number {
    return this.end;
  }
}
