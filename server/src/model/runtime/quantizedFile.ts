/**
 * Writes a graph's quantized weights (graph/quantizedWeights.ts) from the safetensors: each
 * tensor read in slices of rows, converted to float32, quantized and written at its place,
 * so memory stays bounded by one slice (16 MiB of source) whatever the tensor's size (the
 * 2B model's tied embedding alone is 1 GB of bf16). The file appears under its final name
 * only when whole (written beside it, then renamed), so a file that exists is complete and a
 * later load reads it as it is.
 */
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import type { Checkpoint } from '../checkpoint/checkpoint';
import { quantizeOutputs, quantizeRows } from '../checkpoint/quantize';
import { DTYPE_BYTES, fromBfloat16, type TensorInfo } from '../checkpoint/safetensors';
import { describeScheme, type Int8Kernel, type QuantizedEntry, type QuantizedWeights, type WeightsPrecision } from '../graph/quantizedWeights';
import { weightFilesIdentity } from './graphCache';

/** Source bytes per slice (at least one row is read whatever the size). */
export const SLICE_BYTES = 16 * 2 ** 20;

/**
 * The quantized file's name: the scheme and the identity of the checkpoint's weight files
 * (path, size, modification time), so that replaced weights get a new file — and, since the
 * graph names the file, a new graph cache entry.
 */
export async function quantizedFileName(checkpoint: Checkpoint, precision: Exclude<WeightsPrecision, 'bf16'>, accuracyLevel?: number, kernel?: Int8Kernel): Promise<string> {
  return `weights-${describeScheme(precision, accuracyLevel, kernel)}-${await weightFilesIdentity(checkpoint.files.map((f) => f.path))}.bin`;
}

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
function toFloat32(bytes: Uint8Array, info: TensorInfo): Float32Array {
  const aligned = new Uint8Array(bytes); // typed views need aligned offsets
  if (info.dtype === 'BF16') return fromBfloat16(new Uint16Array(aligned.buffer));
  if (info.dtype === 'F16') return fromFloat16(new Uint16Array(aligned.buffer));
  if (info.dtype === 'F32') return new Float32Array(aligned.buffer);
  throw new Error(`${info.file}: tensor ${info.name} is ${info.dtype}; only BF16, F16 and F32 weights can be quantized`);
}

/**
 * A per-column tensor's B [K, N] gathered in memory as its rows (outputs) are quantized,
 * slice by slice: each slice fills columns of every row of B, so B is written whole at the
 * end. Its size is one linear layer's int8 (12 MiB for the 2B model's largest; the head,
 * the one far larger tensor, is blockwise), not the source's.
 */
class PerColumnTensor {
  readonly bytes: Uint8Array;
  private readonly b: Int8Array;

  constructor(private readonly entry: QuantizedEntry) {
    this.bytes = new Uint8Array(entry.layout === 'per-column' ? entry.dataBytes : 0);
    this.b = new Int8Array(this.bytes.buffer);
  }

  /** Quantizes rows [first, first + rows) into B's columns; returns their scales. */
  add(values: Float32Array, first: number, rows: number): Float32Array {
    const { n, k } = this.entry;
    const q = quantizeOutputs(values, rows, k);
    for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) this.b[i * n + first + r] = q.values[r * k + i];
    return q.scales;
  }
}

/** Where quantized bytes go: a file (positional writes) or a buffer. */
type Sink = (bytes: Uint8Array, offset: number) => Promise<void>;

/** Progress: source bytes quantized so far, of the total. */
export type QuantizeProgress = (doneBytes: number, totalBytes: number) => void;

async function quantizeInto(store: QuantizedWeights, sink: Sink, onProgress?: QuantizeProgress, sliceBytes = SLICE_BYTES): Promise<void> {
  const total = store.entries.reduce((sum, e) => sum + e.source.byteLength, 0);
  let done = 0;
  const handles = new Map<string, FileHandle>();
  try {
    for (const entry of store.entries) {
      const { source, n, k, kBlocks, blobBytes } = entry;
      let handle = handles.get(source.file);
      if (!handle) handles.set(source.file, (handle = await open(source.file, 'r')));
      const valueBytes = DTYPE_BYTES[source.dtype];
      const rowsPerSlice = Math.max(1, Math.floor(sliceBytes / (k * valueBytes)));
      const zpRowBytes = entry.zeroPointBytes / n;
      const columns = new PerColumnTensor(entry);
      for (let row = 0; row < n; row += rowsPerSlice) {
        const rows = Math.min(rowsPerSlice, n - row);
        const raw = new Uint8Array(rows * k * valueBytes);
        const { bytesRead } = await handle.read(raw, 0, raw.length, source.offset + row * k * valueBytes);
        if (bytesRead !== raw.length) throw new Error(`${source.file}: tensor ${source.name}: file shrank while quantizing`);
        if (entry.layout === 'per-column') {
          await sink(new Uint8Array(columns.add(toFloat32(raw, source), row, rows).buffer), entry.scalesOffset + row * 4);
        } else {
          const q = quantizeRows(toFloat32(raw, source), rows, k, store.scheme);
          await sink(q.data, entry.dataOffset + row * kBlocks * blobBytes);
          await sink(new Uint8Array(q.scales.buffer), entry.scalesOffset + row * kBlocks * 4);
          if (entry.zeroPointBytes) await sink(q.zeroPoints, entry.zeroPointsOffset + row * zpRowBytes);
        }
        done += raw.length;
        onProgress?.(done, total);
      }
      if (entry.layout === 'per-column') await sink(columns.bytes, entry.dataOffset);
    }
  } finally {
    for (const handle of handles.values()) await handle.close();
  }
}

/**
 * Makes `path` hold the store's quantized weights unless it already does (a complete file
 * of the right size). Returns whether it quantized.
 */
export async function ensureQuantizedFile(store: QuantizedWeights, path: string, onProgress?: QuantizeProgress, sliceBytes = SLICE_BYTES): Promise<boolean> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && existing.size === store.bytes) return false;
  const partial = `${path}.${process.pid}.partial`;
  const file = await open(partial, 'w');
  try {
    await file.truncate(store.bytes);
    await quantizeInto(store, async (bytes, offset) => {
      await file.write(bytes, 0, bytes.length, offset);
    }, onProgress, sliceBytes);
    await file.sync();
    await file.close();
    await rename(partial, path);
    return true;
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
}

/** The quantized weights in memory (where the graph cache cannot hold files). */
export async function quantizeToBuffer(store: QuantizedWeights, onProgress?: QuantizeProgress): Promise<Uint8Array> {
  const out = new Uint8Array(store.bytes);
  await quantizeInto(store, async (bytes, offset) => out.set(bytes, offset), onProgress);
  return out;
}
