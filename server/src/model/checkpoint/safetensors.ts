/**
 * Safetensors reading and writing. The header of an untrusted file is parsed defensively:
 * its length, JSON, dtypes, shapes and byte ranges are all checked against the file before
 * anything is read, so a malformed or malicious file fails with a message naming it, never
 * with an out-of-range read. Tensor data is read lazily, tensor by tensor.
 */
import { openRegularFile } from '../../io/regularFile';
import { writeFileAtomic } from '../../workspace/atomicWrite';

export type Dtype = 'BF16' | 'F16' | 'F32' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<Dtype, number> = { BF16: 2, F16: 2, F32: 4, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Headers beyond this are refused (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** The file holding the tensor. */
  file: string;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
}

function fail(file: string, message: string): never {
  throw new CheckpointError(`${file}: ${message}`);
}

/** Parses and validates a safetensors header; reads only the header's bytes. */
export async function readSafetensorsHeader(file: string): Promise<TensorInfo[]> {
  let opened;
  try {
    opened = await openRegularFile(file, (message) => new CheckpointError(message));
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    fail(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const { handle, size } = opened;
  try {
    if (size < 8) fail(file, `truncated (${size} bytes, not even a header length)`);
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, 8, 0);
    const declared = prefix.readBigUInt64LE(0);
    if (declared < 2n || declared > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
      fail(file, `header length ${declared} does not fit the file (${size} bytes)`);
    }
    const headerLength = Number(declared);
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch (error) {
      fail(file, `header is not valid JSON (${(error as Error).message})`);
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) fail(file, 'header is not a JSON object');
    const dataStart = 8 + headerLength;
    const dataSize = size - dataStart;
    const tensors: TensorInfo[] = [];
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!e || typeof e !== 'object') fail(file, `tensor ${name}: entry is not an object`);
      if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) fail(file, `tensor ${name}: unsupported dtype ${JSON.stringify(e.dtype)}`);
      const dtype = e.dtype as Dtype;
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(file, `tensor ${name}: invalid shape ${JSON.stringify(e.shape)}`);
      const shape = e.shape as number[];
      const offsets = e.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
        fail(file, `tensor ${name}: invalid data_offsets ${JSON.stringify(offsets)}`);
      }
      const [begin, end] = offsets as [number, number];
      if (begin > end || end > dataSize) fail(file, `tensor ${name}: bytes ${begin}–${end} lie outside the data (${dataSize} bytes)`);
      const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
      if (end - begin !== expected) fail(file, `tensor ${name}: ${end - begin} bytes for shape [${shape}] of ${dtype} (expected ${expected})`);
      tensors.push({ name, dtype, shape, file, offset: dataStart + begin, byteLength: end - begin });
    }
    // Overlapping tensors would let one tensor's bytes masquerade as another's. An empty
    // tensor (a zero in its shape) has no bytes, so it overlaps nothing wherever it points.
    const sorted = tensors.filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].byteLength) fail(file, `tensors ${sorted[i - 1].name} and ${sorted[i].name} overlap`);
    }
    return tensors;
  } finally {
    await handle.close();
  }
}

/** Reads one tensor's bytes (exactly its range; the header was validated). */
export async function readTensorBytes(info: TensorInfo): Promise<Buffer> {
  const { handle } = await openRegularFile(info.file, (message) => new CheckpointError(message));
  try {
    const out = Buffer.alloc(info.byteLength);
    const { bytesRead } = await handle.read(out, 0, info.byteLength, info.offset);
    if (bytesRead !== info.byteLength) fail(info.file, `tensor ${info.name}: file shrank while reading`);
    return out;
  } finally {
    await handle.close();
  }
}

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

/** Writes a safetensors file (header padded with spaces to an 8-byte boundary). */
export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const expected = tensor.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[tensor.dtype];
    if (tensor.data.byteLength !== expected) throw new RangeError(`${tensor.name}: ${tensor.data.byteLength} bytes for shape [${tensor.shape}] ${tensor.dtype}`);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await writeFileAtomic(path, Buffer.concat([prefix, Buffer.from(json, 'utf8'), ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]));
}

/** float32 → bfloat16 bits, rounding to nearest even (as torch's .to(torch.bfloat16)). */
export function toBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    if ((x & 0x7fffffff) > 0x7f800000) out[i] = (x >>> 16) | 0x40; // NaN stays NaN
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** bfloat16 bits → float32 (exact). */
export function fromBfloat16(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}
