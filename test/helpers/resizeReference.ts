/** A float64 reference resize, for tests and the deviation measurement in docs/video-pipeline.md. */
import { axisWeights } from '../../server/src/video/resize';

/**
 * A float64 reference of the same two-pass filter. With `uint8Between` the horizontal
 * result is rounded and clamped to bytes, as ATen's uint8 kernel does; without, it is
 * the float path (torchvision on float input).
 */
export function referenceResize(rgb: Uint8Array, w: number, h: number, ow: number, oh: number, uint8Between = true): Float64Array {
  const x = axisWeights(w, ow);
  const y = axisWeights(h, oh);
  const tmp = new Float64Array(ow * h * 3);
  for (let r = 0; r < h; r++) for (let i = 0; i < ow; i++) for (let c = 0; c < 3; c++) {
    let sum = 0;
    x.weights[i].forEach((wt, j) => { sum += rgb[(r * w + x.first[i] + j) * 3 + c] * wt; });
    tmp[(r * ow + i) * 3 + c] = uint8Between ? Math.min(255, Math.max(0, Math.round(sum))) : sum;
  }
  const out = new Float64Array(ow * oh * 3);
  for (let r = 0; r < oh; r++) for (let i = 0; i < ow; i++) for (let c = 0; c < 3; c++) {
    let sum = 0;
    y.weights[r].forEach((wt, j) => { sum += tmp[((y.first[r] + j) * ow + i) * 3 + c] * wt; });
    out[(r * ow + i) * 3 + c] = Math.min(255, Math.max(0, sum));
  }
  return out;
}

