/**
 * Antialiased bicubic resize of RGB uint8 frames, reproducing what the training pipeline
 * ran: torchvision `resize(..., BICUBIC, antialias=True)` on uint8 tensors, which is
 * ATen's separable uint8 kernel (upsample_bicubic2d_aa). Per axis: Keys cubic (a = -0.5)
 * weights with support 2·scale when shrinking, normalised, quantised to int16 at the
 * largest precision (≤ 22 bits) at which the largest weight fits; a horizontal pass then
 * a vertical pass, each rounding (+ half an LSB, shift) and clamping to uint8.
 * docs/video-pipeline.md records the measured deviation from a float reference.
 */

const CUBIC_A = -0.5;
const INTERP_SIZE = 4; // bicubic taps before scaling

function keysCubic(x: number): number {
  x = Math.abs(x);
  if (x < 1) return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
  if (x < 2) return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
  return 0;
}

/** One axis of a resize: for each output sample, its first input sample and int16 weights. */
export interface ResizeAxis {
  /** First input index per output sample. */
  first: Int32Array;
  /** Number of taps per output sample. */
  taps: Int32Array;
  /** [out][maxTaps] fixed-point weights. */
  weights: Int32Array;
  maxTaps: number;
  precision: number;
}

/** Float weights of one axis, exactly as ATen computes them (double precision). */
export function axisWeights(inSize: number, outSize: number): { first: number[]; weights: number[][] } {
  const scale = inSize / outSize;
  const support = scale >= 1 ? (INTERP_SIZE * 0.5) * scale : INTERP_SIZE * 0.5;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const first: number[] = [];
  const weights: number[][] = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - xmin, 0), maxTaps);
    const w: number[] = [];
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const value = keysCubic((j + xmin - center + 0.5) * invScale);
      w.push(value);
      total += value;
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) w[j] /= total;
    first.push(xmin);
    weights.push(w);
  }
  return { first, weights };
}

export function resizeAxis(inSize: number, outSize: number): ResizeAxis {
  const { first, weights } = axisWeights(inSize, outSize);
  const maxTaps = Math.max(1, ...weights.map((w) => w.length));
  let largest = 0;
  for (const w of weights) for (const value of w) largest = Math.max(largest, value);
  // The largest precision below 22 bits at which the largest weight still fits in int16.
  let precision = 0;
  while (precision < 22 && Math.trunc(0.5 + largest * 2 ** (precision + 1)) < 1 << 15) precision++;
  const fixed = new Int32Array(outSize * maxTaps);
  weights.forEach((w, i) => {
    w.forEach((value, j) => {
      const scaled = value * 2 ** precision;
      fixed[i * maxTaps + j] = Math.trunc(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
    });
  });
  return {
    first: Int32Array.from(first),
    taps: Int32Array.from(weights.map((w) => w.length)),
    weights: fixed,
    maxTaps,
    precision,
  };
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** One pass along rows (horizontal) of an interleaved RGB image. */
function horizontal(src: Uint8Array, width: number, height: number, axis: ResizeAxis, outWidth: number): Uint8Array {
  const out = new Uint8Array(outWidth * height * 3);
  // Locals, not property loads, in the hot loops.
  const { first, taps, weights, maxTaps, precision } = axis;
  const half = 1 << (precision - 1);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    let o = y * outWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      const n = taps[x];
      let w0 = x * maxTaps;
      let p = row + first[x] * 3;
      let r = half;
      let g = half;
      let b = half;
      for (let j = 0; j < n; j++, p += 3) {
        const w = weights[w0++];
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      out[o++] = clampByte(r >> precision);
      out[o++] = clampByte(g >> precision);
      out[o++] = clampByte(b >> precision);
    }
  }
  return out;
}

/** One pass along columns (vertical), accumulating whole rows so memory is read in order. */
function vertical(src: Uint8Array, width: number, axis: ResizeAxis, outHeight: number): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(stride * outHeight);
  const { first, taps, weights, maxTaps, precision } = axis;
  const half = 1 << (precision - 1);
  const sums = new Int32Array(stride);
  for (let y = 0; y < outHeight; y++) {
    sums.fill(half);
    const n = taps[y];
    for (let j = 0; j < n; j++) {
      const w = weights[y * maxTaps + j];
      const rowStart = (first[y] + j) * stride;
      for (let i = 0; i < stride; i++) sums[i] += src[rowStart + i] * w;
    }
    const outRow = y * stride;
    for (let i = 0; i < stride; i++) out[outRow + i] = clampByte(sums[i] >> precision);
  }
  return out;
}

/** A reusable resizer for one input and output size (the axes are computed once per video). */
export class FrameResizer {
  private readonly xAxis: ResizeAxis | undefined;
  private readonly yAxis: ResizeAxis | undefined;

  constructor(readonly inWidth: number, readonly inHeight: number, readonly outWidth: number, readonly outHeight: number) {
    // ATen skips an axis whose size does not change.
    this.xAxis = inWidth === outWidth ? undefined : resizeAxis(inWidth, outWidth);
    this.yAxis = inHeight === outHeight ? undefined : resizeAxis(inHeight, outHeight);
  }

  /** Resizes one interleaved RGB frame (HWC, uint8). */
  resize(rgb: Uint8Array): Uint8Array {
    if (rgb.length !== this.inWidth * this.inHeight * 3) {
      throw new RangeError(`frame has ${rgb.length} bytes, expected ${this.inWidth}×${this.inHeight}×3`);
    }
    let image = rgb;
    if (this.xAxis) image = horizontal(image, this.inWidth, this.inHeight, this.xAxis, this.outWidth);
    if (this.yAxis) image = vertical(image, this.outWidth, this.yAxis, this.outHeight);
    return image === rgb ? rgb.slice() : image;
  }
}
