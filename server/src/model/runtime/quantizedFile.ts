/**
 * Writes a graph's quantized weights (graph/quantizedWeights.ts) from the safetensors: each
 * tensor read in slices of rows, converted to float32, quantized (on worker threads for a
 * large model) and written at its place, so memory stays bounded by a few slices (16 MiB of
 * source each) whatever the tensor's size (the 2B model's tied embedding alone is 1 GB of bf16). The file appears under its final name
 * only when whole (written beside it, then renamed), so a file that exists is complete and a
 * later load reads it as it is.
 */
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { WorkerPool } from '../../io/workerPool';
import type { Checkpoint } from '../checkpoint/checkpoint';
import { quantizeSlice, type SliceJob, type SliceResult } from '../checkpoint/quantizeSlice';
import { DTYPE_BYTES } from '../checkpoint/safetensors';
import { describeScheme, type Int8Kernel, type QuantizedWeights, type WeightsPrecision } from '../graph/quantizedWeights';
import { weightFilesIdentity } from './graphCache';
import type { QuantizeReply, QuantizeRequest } from './quantizeWorker';

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

/** Where quantized bytes go: a file (positional writes) or a buffer. */
type Sink = (bytes: Uint8Array, offset: number) => Promise<void>;

/** Progress: source bytes quantized so far, of the total. */
export type QuantizeProgress = (doneBytes: number, totalBytes: number) => void;

/** Source bytes from which quantizing is worth worker threads (starting one costs ~0.1 s). */
const WORKERS_FROM_BYTES = 64 * 2 ** 20;

/** The source bytes a store's weights are quantized from. */
function sourceBytes(store: QuantizedWeights): number {
  return store.entries.reduce((sum, e) => sum + e.source.byteLength, 0);
}

/** Worker threads for `totalBytes` of source: one per core (at most 8) for a large model, none for a small one. */
export function quantizeWorkers(totalBytes: number): number {
  return totalBytes >= WORKERS_FROM_BYTES ? Math.max(1, Math.min(cpus().length, 8)) : 0;
}

/**
 * Quantizes every tensor of `store` into `sink`: each tensor read in slices of rows on this
 * thread, each slice quantized on a worker thread (`workers` > 0; 0: here), at most two
 * slices per worker in flight, so memory stays bounded by a few slices. A per-column
 * tensor's B [K, N] is gathered in memory as its slices arrive (each fills columns of every
 * row of B) and written whole at the end: one linear layer's int8, 12 MiB for the 2B model's
 * largest (the head, the one far larger tensor, is blockwise).
 */
async function quantizeInto(store: QuantizedWeights, sink: Sink, onProgress: QuantizeProgress | undefined, sliceBytes: number, workers: number): Promise<void> {
  const total = sourceBytes(store);
  let done = 0;
  const handles = new Map<string, FileHandle>();
  const pool = workers > 0 ? new WorkerPool<Omit<QuantizeRequest, 'id'>, Extract<QuantizeReply, { result: SliceResult }>>(__dirname, 'quantizeWorker', workers) : undefined;
  const quantize = async (job: SliceJob): Promise<SliceResult> => (pool ? (await pool.run({ job }, [job.raw.buffer as ArrayBuffer])).result : quantizeSlice(job));
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const track = (task: Promise<void>): Promise<void> => {
    const tracked: Promise<void> = task.catch((error: unknown) => { failure ??= error; }).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return tracked;
  };
  const settle = async (atMost: number) => {
    while (inFlight.size > atMost) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };
  try {
    for (const entry of store.entries) {
      const { source, n, k, kBlocks, blobBytes } = entry;
      let handle = handles.get(source.file);
      if (!handle) handles.set(source.file, (handle = await open(source.file, 'r')));
      const valueBytes = DTYPE_BYTES[source.dtype];
      const rowsPerSlice = Math.max(1, Math.floor(sliceBytes / (k * valueBytes)));
      const zpRowBytes = entry.zeroPointBytes / n;
      const columns = entry.layout === 'per-column' ? new Int8Array(entry.dataBytes) : undefined;
      const slices: Promise<void>[] = [];
      for (let row = 0; row < n; row += rowsPerSlice) {
        await settle(Math.max(1, 2 * workers) - 1);
        const rows = Math.min(rowsPerSlice, n - row);
        const raw = new Uint8Array(rows * k * valueBytes);
        const { bytesRead } = await handle.read(raw, 0, raw.length, source.offset + row * k * valueBytes);
        if (bytesRead !== raw.length) throw new Error(`${source.file}: tensor ${source.name}: file shrank while quantizing`);
        const first = row;
        const job: SliceJob = { raw, dtype: source.dtype, name: source.name, file: source.file, rows, k, layout: entry.layout, scheme: store.scheme };
        slices.push(track(quantize(job).then(async (result) => {
          // Scales come per row (per column) or per row and block alike: kBlocks is 1 per column.
          await sink(new Uint8Array(result.scales.buffer, result.scales.byteOffset, result.scales.byteLength), entry.scalesOffset + first * kBlocks * 4);
          if (result.layout === 'per-column') {
            for (let i = 0; i < k; i++) columns!.set(result.transposed.subarray(i * rows, (i + 1) * rows), i * n + first);
          } else {
            await sink(result.data, entry.dataOffset + first * kBlocks * blobBytes);
            if (entry.zeroPointBytes) await sink(result.zeroPoints, entry.zeroPointsOffset + first * zpRowBytes);
          }
          done += rows * k * valueBytes;
          onProgress?.(done, total);
        })));
      }
      if (columns) {
        await Promise.all(slices);
        if (failure !== undefined) throw failure;
        await sink(new Uint8Array(columns.buffer), entry.dataOffset);
      }
    }
    await settle(0);
  } finally {
    await Promise.all(inFlight);
    for (const handle of handles.values()) await handle.close();
    await pool?.close();
  }
}

/**
 * Makes `path` hold the store's quantized weights unless it already does (a complete file
 * of the right size). Returns whether it quantized.
 */
export async function ensureQuantizedFile(store: QuantizedWeights, path: string, onProgress?: QuantizeProgress, sliceBytes = SLICE_BYTES, workers = quantizeWorkers(sourceBytes(store))): Promise<boolean> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && existing.size === store.bytes) return false;
  const partial = `${path}.${process.pid}.partial`;
  const file = await open(partial, 'w');
  try {
    await file.truncate(store.bytes);
    await quantizeInto(store, async (bytes, offset) => {
      await file.write(bytes, 0, bytes.length, offset);
    }, onProgress, sliceBytes, workers);
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
export async function quantizeToBuffer(store: QuantizedWeights, onProgress?: QuantizeProgress, workers = quantizeWorkers(sourceBytes(store))): Promise<Uint8Array> {
  const out = new Uint8Array(store.bytes);
  await quantizeInto(store, async (bytes, offset) => out.set(bytes, offset), onProgress, SLICE_BYTES, workers);
  return out;
}
