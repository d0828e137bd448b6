/**
 * The vision tower's input, as the Hugging Face Qwen3-VL video processor builds it from
 * qwen-vl-utils' frames: rescale 1/255 and normalise with the checkpoint's mean/std (fused
 * as (v − 255·mean) / (255·std) in float32, as the fast processors do), pad an odd frame
 * count by repeating the last frame, and patchify into rows of C·t·p·p values ordered
 * (pair, block row, block column, row in block, column in block).
 */
import type { VisionGeometry } from './plan';

export interface PixelValues {
  /** [rows, C·temporal·patch·patch] float32, row-major. */
  data: Float32Array;
  rows: number;
  columns: number;
  gridThw: [number, number, number];
}

/** The 256 normalised values per channel (frames are uint8 after the resize). */
function lookupTables(geometry: VisionGeometry): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const mean = Math.fround(geometry.imageMean[c] * 255);
    const std = Math.fround(geometry.imageStd[c] * 255);
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v - mean) / std);
    return table;
  });
}

/** The rows of pixel_values for the given frames, whatever their number (an odd count repeats the last frame). */
export function pixelLayout(frameCount: number, width: number, height: number, geometry: VisionGeometry): Omit<PixelValues, 'data'> {
  const p = geometry.patchSize;
  const m = geometry.mergeSize;
  if (frameCount === 0) throw new RangeError('no frames to patchify');
  if (width % (p * m) !== 0 || height % (p * m) !== 0) throw new RangeError(`${width}×${height} is not a multiple of ${p * m}`);
  const gt = Math.ceil(frameCount / geometry.temporalPatchSize);
  const gh = height / p;
  const gw = width / p;
  return { rows: gt * gh * gw, columns: 3 * geometry.temporalPatchSize * p * p, gridThw: [gt, gh, gw] };
}

/**
 * Writes one frame pair's rows (temporal patch `t`) into `data`, which holds the rows of
 * every pair. `frames` are the pair's frames (the last pair of an odd count has one, which
 * is repeated). Pairs are independent, so they can be written as their frames arrive.
 */
export function patchifyPair(frames: readonly Uint8Array[], t: number, width: number, height: number, geometry: VisionGeometry, data: Float32Array, tables = lookupTables(geometry)): void {
  const p = geometry.patchSize;
  const tp = geometry.temporalPatchSize;
  const m = geometry.mergeSize;
  const gh = height / p;
  const gw = width / p;
  const columns = 3 * tp * p * p;
  const pair = Array.from({ length: tp }, (_, f) => frames[Math.min(f, frames.length - 1)]);
  let row = t * gh * gw;
  for (let bh = 0; bh < gh / m; bh++) {
    for (let bw = 0; bw < gw / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++) {
          const py0 = (bh * m + mh) * p;
          const px0 = (bw * m + mw) * p;
          let o = row * columns;
          for (let c = 0; c < 3; c++) {
            const table = tables[c];
            for (let f = 0; f < tp; f++) {
              const frame = pair[f];
              for (let y = 0; y < p; y++) {
                let src = ((py0 + y) * width + px0) * 3 + c;
                for (let x = 0; x < p; x++, src += 3) data[o++] = table[frame[src]];
              }
            }
          }
          row++;
        }
      }
    }
  }
}

/** The normalisation lookup tables, made once per video and shared by its pairs. */
export { lookupTables as normalisationTables };

/** Patchifies resized RGB frames (HWC uint8, all `width`×`height`) into pixel_values. */
export function patchify(frames: readonly Uint8Array[], width: number, height: number, geometry: VisionGeometry): PixelValues {
  const layout = pixelLayout(frames.length, width, height, geometry);
  const data = new Float32Array(layout.rows * layout.columns);
  const tables = lookupTables(geometry);
  const tp = geometry.temporalPatchSize;
  for (let t = 0; t < layout.gridThw[0]; t++) patchifyPair(frames.slice(t * tp, (t + 1) * tp), t, width, height, geometry, data, tables);
  return { data, ...layout };
}
