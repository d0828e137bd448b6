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

/** Patchifies resized RGB frames (HWC uint8, all `width`×`height`) into pixel_values. */
export function patchify(frames: readonly Uint8Array[], width: number, height: number, geometry: VisionGeometry): PixelValues {
  const p = geometry.patchSize;
  const tp = geometry.temporalPatchSize;
  const m = geometry.mergeSize;
  if (frames.length === 0) throw new RangeError('no frames to patchify');
  if (width % (p * m) !== 0 || height % (p * m) !== 0) throw new RangeError(`${width}×${height} is not a multiple of ${p * m}`);
  const padded = [...frames];
  while (padded.length % tp !== 0) padded.push(padded[padded.length - 1]);
  const gt = padded.length / tp;
  const gh = height / p;
  const gw = width / p;
  const columns = 3 * tp * p * p;
  const rows = gt * gh * gw;
  const data = new Float32Array(rows * columns);
  const tables = lookupTables(geometry);
  let row = 0;
  for (let t = 0; t < gt; t++) {
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
                const frame = padded[t * tp + f];
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
  return { data, rows, columns, gridThw: [gt, gh, gw] };
}
