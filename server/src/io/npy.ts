/** NumPy `.npy` (format 1.0) writing, so anyone can load our tensors next to a reference. */
import { writeFileAtomic } from '../workspace/atomicWrite';

export type NpyArray =
  | { dtype: 'float32'; data: Float32Array; shape: number[] }
  | { dtype: 'int64'; data: BigInt64Array | number[]; shape: number[] };

const DESCR = { float32: '<f4', int64: '<i8' } as const;

export function encodeNpy(array: NpyArray): Buffer {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) throw new RangeError(`shape [${array.shape}] holds ${count} values, data has ${array.data.length}`);
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = array.dtype === 'float32'
    ? Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength)
    : (() => {
        const values = array.data instanceof BigInt64Array ? array.data : BigInt64Array.from(array.data, (v) => BigInt(v));
        return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      })();
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]);
}

export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array));
}

/** Reads what encodeNpy writes (for tests and tools); rejects anything else. */
export function decodeNpy(bytes: Buffer): NpyArray {
  if (bytes.length < 10 || bytes.subarray(0, 6).toString('latin1') !== '\x93NUMPY' || bytes[6] !== 1) throw new RangeError('not a .npy v1 file');
  const length = bytes.readUInt16LE(8);
  if (10 + length > bytes.length) throw new RangeError('.npy header runs past the end of the file');
  const header = bytes.subarray(10, 10 + length).toString('latin1');
  const match = /'descr': '(<f4|<i8)', 'fortran_order': False, 'shape': \(([\d, ]*)\)/.exec(header);
  if (!match) throw new RangeError(`unsupported .npy header ${header.trim()}`);
  const shape = match[2].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(10 + length);
  const width = match[1] === '<f4' ? 4 : 8;
  if (body.length !== count * width) throw new RangeError(`.npy body has ${body.length} bytes, shape needs ${count * width}`);
  const copy = new Uint8Array(body);
  return match[1] === '<f4'
    ? { dtype: 'float32', data: new Float32Array(copy.buffer), shape }
    : { dtype: 'int64', data: new BigInt64Array(copy.buffer), shape };
}
