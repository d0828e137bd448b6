/**
 * One slice of a weight quantized: the rows [first, first + rows) of a safetensors tensor, as
 * stored, into the layout its kernel reads (quantize.ts). Pure, so that it runs on the main
 * thread or on a worker (quantizeWorker.ts) alike.
 */
import { type QuantScheme, quantizeOutputs, quantizeRows } from './quantize';
import { fromBfloat16 } from './safetensors';

export interface SliceJob {
  /** The rows' stored bytes. */
  raw: Uint8Array;
  dtype: string;
  /** Named in errors: the tensor and its file. */
  name: string;
  file: string;
  rows: number;
  k: number;
  /** Blockwise (MatMulNBits) with its scheme, or per output column (the integer GEMM). */
  layout: 'blockwise' | 'per-column';
  scheme: QuantScheme;
}

export type SliceResult =
  | { layout: 'blockwise'; data: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array }
  /** `transposed`: the rows' int8 values as [K, rows], each run of `rows` one row of B's columns. */
  | { layout: 'per-column'; transposed: Int8Array; scales: Float32Array };

/** float16 bits → float32 (exact). */
function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const exponent = (h >> 10) & 31;
    const mantissa = h & 1023;
    const magnitude = exponent === 0 ? mantissa * 2 ** -24 : exponent === 31 ? (mantissa ? NaN : Infinity) : (1 + mantissa / 1024) * 2 ** (exponent - 15);
    out[i] = h & 0x8000 ? -magnitude : magnitude;
  }
  return out;
}

/** Stored values as float32 (a copy where the dtype differs). */
function toFloat32(job: SliceJob): Float32Array {
  const aligned = job.raw.byteOffset % 4 === 0 ? job.raw : new Uint8Array(job.raw); // typed views need aligned offsets
  const words = (size: number) => aligned.byteLength / size;
  if (job.dtype === 'BF16') return fromBfloat16(new Uint16Array(aligned.buffer, aligned.byteOffset, words(2)));
  if (job.dtype === 'F16') return fromFloat16(new Uint16Array(aligned.buffer, aligned.byteOffset, words(2)));
  if (job.dtype === 'F32') return new Float32Array(aligned.buffer.slice(aligned.byteOffset, aligned.byteOffset + aligned.byteLength));
  throw new Error(`${job.file}: tensor ${job.name} is ${job.dtype}; only BF16, F16 and F32 weights can be quantized`);
}

export function quantizeSlice(job: SliceJob): SliceResult {
  const values = toFloat32(job);
  if (job.layout === 'blockwise') return { layout: 'blockwise', ...quantizeRows(values, job.rows, job.k, job.scheme) };
  const { rows, k } = job;
  const q = quantizeOutputs(values, rows, k);
  // Transposed here, in tiles, so that B's columns fill with contiguous copies.
  const transposed = new Int8Array(rows * k);
  const TILE = 64;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let i0 = 0; i0 < k; i0 += TILE) {
      const i1 = Math.min(k, i0 + TILE);
      for (let r = r0; r < r1; r++) for (let i = i0; i < i1; i++) transposed[i * rows + r] = q.values[r * k + i];
    }
  }
  return { layout: 'per-column', transposed, scales: q.scales };
}
