/**
 * Blockwise weight quantization in the layout of ONNX Runtime's `com.microsoft.MatMulNBits`:
 * a weight W [N, K] (as stored: one row per output) is cut along K into blocks of
 * `blockSize` values; each block keeps one float scale (and, asymmetric, one zero point) and
 * its values as unsigned `bits`-bit integers q, so that w ≈ (q − zero) · scale.
 *
 * Byte layout (MatMulNBits' contract, docs/ContribOperators.md):
 * - B [N, kBlocks, blockSize·bits/8]: 8-bit, one value per byte; 4-bit, two per byte, the
 *   even-indexed value in the low nibble. K is padded with zeros to whole blocks.
 * - scales [N·kBlocks], row by row.
 * - zero points (asymmetric only) [N · ⌈kBlocks·bits/8⌉] uint8, row by row; 4-bit packs two
 *   blocks per byte, low nibble first. Symmetric leaves them out: the operator then takes
 *   2^(bits−1) (8 for 4-bit, 128 for 8-bit).
 */

export interface QuantScheme {
  bits: 4 | 8;
  /** Values per block along K: a power of two, at least 16 (the operator's rule). */
  blockSize: number;
  /** Symmetric: zero point 2^(bits−1) for every block, scale = max|w| / (2^(bits−1) − 1). */
  symmetric: boolean;
}

/** Sizes of one quantized [N, K] weight. */
export interface QuantizedShape {
  n: number;
  k: number;
  kBlocks: number;
  /** Bytes per block of B. */
  blobBytes: number;
  /** Bytes of B, scales (float32) and zero points (0 when symmetric). */
  dataBytes: number;
  scaleBytes: number;
  zeroPointBytes: number;
}

export function quantizedShape(n: number, k: number, scheme: QuantScheme): QuantizedShape {
  const kBlocks = Math.ceil(k / scheme.blockSize);
  const blobBytes = (scheme.blockSize * scheme.bits) / 8;
  return {
    n, k, kBlocks, blobBytes,
    dataBytes: n * kBlocks * blobBytes,
    scaleBytes: n * kBlocks * 4,
    zeroPointBytes: scheme.symmetric ? 0 : n * Math.ceil((kBlocks * scheme.bits) / 8),
  };
}

/** Quantized rows: B, scales and (asymmetric) zero points for rows [first, first + rows). */
export interface QuantizedRows {
  data: Uint8Array;
  scales: Float32Array;
  zeroPoints: Uint8Array;
}

/**
 * Quantizes `rows` rows of K values (row-major float32). The block is scaled so that its
 * range maps onto the integer range: symmetric, ±max|w| onto ±(2^(bits−1) − 1) around the
 * fixed zero point; asymmetric, [min(0, lo), max(0, hi)] onto [0, 2^bits − 1], with zero
 * exactly representable (the zero point is an integer).
 */
export function quantizeRows(values: Float32Array, rows: number, k: number, scheme: QuantScheme): QuantizedRows {
  const shape = quantizedShape(rows, k, scheme);
  const { kBlocks, blobBytes } = shape;
  const levels = 2 ** scheme.bits - 1;
  const middle = 2 ** (scheme.bits - 1);
  const zpRowBytes = Math.ceil((kBlocks * scheme.bits) / 8);
  const data = new Uint8Array(shape.dataBytes);
  const scales = new Float32Array(rows * kBlocks);
  const zeroPoints = new Uint8Array(scheme.symmetric ? 0 : rows * zpRowBytes);
  const block = new Uint8Array(scheme.blockSize);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < kBlocks; b++) {
      const start = r * k + b * scheme.blockSize;
      const count = Math.min(scheme.blockSize, k - b * scheme.blockSize);
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < count; i++) {
        const v = values[start + i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let scale: number;
      let zero: number;
      if (scheme.symmetric) {
        scale = Math.max(-lo, hi) / (middle - 1);
        zero = middle;
      } else {
        scale = (hi - lo) / levels;
        zero = scale > 0 ? Math.min(levels, Math.max(0, Math.round(-lo / scale))) : middle;
      }
      scale = Math.fround(scale);
      const inverse = scale > 0 ? 1 / scale : 0;
      block.fill(zero);
      for (let i = 0; i < count; i++) block[i] = Math.min(levels, Math.max(0, Math.round(values[start + i] * inverse) + zero));
      scales[r * kBlocks + b] = scale;
      const out = (r * kBlocks + b) * blobBytes;
      if (scheme.bits === 8) data.set(block, out);
      else for (let i = 0; i < blobBytes; i++) data[out + i] = block[2 * i] | (block[2 * i + 1] << 4);
      if (!scheme.symmetric) {
        const at = r * zpRowBytes;
        if (scheme.bits === 8) zeroPoints[at + b] = zero;
        else zeroPoints[at + (b >> 1)] |= b & 1 ? zero << 4 : zero;
      }
    }
  }
  return { data, scales, zeroPoints };
}

/** The inverse: the float32 values [rows, K] a quantized weight stands for (tests, drift reports). */
export function dequantizeRows(q: QuantizedRows, rows: number, k: number, scheme: QuantScheme): Float32Array {
  const { kBlocks, blobBytes } = quantizedShape(rows, k, scheme);
  const zpRowBytes = Math.ceil((kBlocks * scheme.bits) / 8);
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < kBlocks; b++) {
      const scale = q.scales[r * kBlocks + b];
      let zero = 2 ** (scheme.bits - 1);
      if (!scheme.symmetric) {
        const byte = q.zeroPoints[r * zpRowBytes + (scheme.bits === 8 ? b : b >> 1)];
        zero = scheme.bits === 8 ? byte : b & 1 ? byte >> 4 : byte & 15;
      }
      const count = Math.min(scheme.blockSize, k - b * scheme.blockSize);
      const base = (r * kBlocks + b) * blobBytes;
      for (let i = 0; i < count; i++) {
        const value = scheme.bits === 8 ? q.data[base + i] : i & 1 ? q.data[base + (i >> 1)] >> 4 : q.data[base + (i >> 1)] & 15;
        out[r * k + b * scheme.blockSize + i] = (value - zero) * scale;
      }
    }
  }
  return out;
}

/**
 * Per-column int8 for an integer GEMM (ONNX Runtime's `MatMulIntegerToFloat`): a weight W
 * [N, K] (one row per output) keeps one float scale per output, max|w| / 127 over its K
 * values, and its values as signed bytes round(w / scale) in [−127, 127], so that
 * w ≈ q · scale. The kernel reads B as x's right operand, [K, N] row-major: the file holds
 * the transpose (quantizeSlice.ts transposes each slice, quantizedFile.ts gathers them into B).
 */
export interface ColumnQuantized {
  /** [rows, K] as the rows came (one output each), not yet transposed. */
  values: Int8Array;
  scales: Float32Array;
}

export function quantizeOutputs(values: Float32Array, rows: number, k: number): ColumnQuantized {
  const out = new Int8Array(rows * k);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let i = r * k; i < (r + 1) * k; i++) max = Math.max(max, Math.abs(values[i]));
    const scale = Math.fround(max / 127);
    const inverse = scale > 0 ? 1 / scale : 0;
    for (let i = r * k; i < (r + 1) * k; i++) out[i] = Math.max(-127, Math.min(127, Math.round(values[i] * inverse)));
    scales[r] = scale;
  }
  return { values: out, scales };
}

/** The inverse, from the file's layout: B [K, N] int8 and scales [N] → W [N, K] float32 (tests, drift reports). */
export function dequantizeColumns(b: Int8Array, scales: Float32Array, n: number, k: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) for (let i = 0; i < k; i++) out[row * k + i] = b[i * n + row] * scales[row];
  return out;
}
