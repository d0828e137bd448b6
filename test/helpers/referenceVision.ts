/**
 * A plain float64 forward pass of the Qwen3.5 vision tower for one frame pair, written from
 * the Hugging Face modeling code (Qwen3-VL's vision blocks and merger), independent of our
 * graph builder and of `visionAuxiliaries`: it interpolates the position table and forms
 * the rotary angles itself. Rows are patches in merge-block order, as the processor emits.
 */
import type { Checkpoint } from '../../server/src/model/checkpoint/checkpoint';
import { matvec, type Vec } from './referenceModel';

function layerNorm(x: Vec, w: Vec, b: Vec): Vec {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  const inv = 1 / Math.sqrt(variance + 1e-6);
  return x.map((v, i) => (v - mean) * inv * w[i] + b[i]);
}

const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
const geluExact = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

const affine = (W: Map<string, Vec>, name: string, x: Vec, out: number) => {
  const y = matvec(W.get(`${name}.weight`)!, x, out);
  const b = W.get(`${name}.bias`)!;
  return y.map((v, i) => v + b[i]);
};

/** Features [gh·gw/4][out_hidden] of one frame pair of gh × gw patches. */
export function referenceVision(checkpoint: Checkpoint, W: Map<string, Vec>, rows: Vec[], gh: number, gw: number): Vec[] {
  const v = checkpoint.config.vision;
  const get = (name: string) => W.get(`model.visual.${name}`)!;
  const at = (name: string) => `model.visual.${name}`;
  const D = v.hiddenSize;
  const heads = v.numHeads;
  const hd = D / heads;
  const m = v.spatialMergeSize;
  // Patch coordinates in merge-block order: blocks of m × m row-major, row-major inside.
  const coords: [number, number][] = [];
  for (let br = 0; br < gh / m; br++) for (let bc = 0; bc < gw / m; bc++) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) coords.push([br * m + i, bc * m + j]);

  // Patch embedding (the Conv3d over a whole patch is a linear map) plus the position table
  // interpolated bilinearly with align_corners (linspace over the table's side).
  const side = Math.round(Math.sqrt(v.numPositionEmbeddings));
  const table = get('pos_embed.weight');
  const lerpIndex = (i: number, n: number) => (n === 1 ? 0 : (i * (side - 1)) / (n - 1));
  let h = rows.map((row, s) => {
    const x = affine(W, at('patch_embed.proj'), row, D);
    const [r, c] = coords[s];
    const fy = lerpIndex(r, gh), fx = lerpIndex(c, gw);
    const y0 = Math.floor(fy), x0 = Math.floor(fx);
    const y1 = Math.min(y0 + 1, side - 1), x1 = Math.min(x0 + 1, side - 1);
    const dy = fy - y0, dx = fx - x0;
    for (const [yy, xx, wgt] of [[y0, x0, (1 - dy) * (1 - dx)], [y0, x1, (1 - dy) * dx], [y1, x0, dy * (1 - dx)], [y1, x1, dy * dx]]) {
      for (let d = 0; d < D; d++) x[d] += wgt * table[(yy * side + xx) * D + d];
    }
    return x;
  });

  // 2-D rotary: inv_freq over half the head dim (θ 10⁴); angles [row·f, col·f], twice.
  const dim = hd / 2;
  const inv = Array.from({ length: dim / 2 }, (_, j) => 1 / 10000 ** ((2 * j) / dim));
  const angle = coords.map(([r, c]) => { const a = [...inv.map((f) => r * f), ...inv.map((f) => c * f)]; return [...a, ...a]; });
  const rope = (x: Vec, s: number) => x.map((val, i) => val * Math.cos(angle[s][i]) + (i < hd / 2 ? -x[i + hd / 2] : x[i - hd / 2]) * Math.sin(angle[s][i]));

  for (let b = 0; b < v.depth; b++) {
    const p = `blocks.${b}`;
    const qkv = h.map((x) => affine(W, at(`${p}.attn.qkv`), layerNorm(x, get(`${p}.norm1.weight`), get(`${p}.norm1.bias`)), 3 * D));
    const attended = h.map((_, i) => {
      const out = new Float64Array(D);
      for (let head = 0; head < heads; head++) {
        const part = (s: number, which: number) => qkv[s].slice(which * D + head * hd, which * D + (head + 1) * hd);
        const q = rope(part(i, 0), i);
        const scores = h.map((__, j) => rope(part(j, 1), j).reduce((sum, kv, d) => sum + kv * q[d], 0) / Math.sqrt(hd));
        const max = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - max));
        const z = e.reduce((a, c) => a + c, 0);
        h.forEach((__, j) => { const val = part(j, 2); for (let d = 0; d < hd; d++) out[head * hd + d] += (e[j] / z) * val[d]; });
      }
      return out;
    });
    h = h.map((x, i) => { const y = affine(W, at(`${p}.attn.proj`), attended[i], D); return x.map((val, d) => val + y[d]); });
    h = h.map((x) => {
      const up = affine(W, at(`${p}.mlp.linear_fc1`), layerNorm(x, get(`${p}.norm2.weight`), get(`${p}.norm2.bias`)), v.intermediateSize).map(geluTanh);
      const down = affine(W, at(`${p}.mlp.linear_fc2`), up, D);
      return x.map((val, d) => val + down[d]);
    });
  }

  // Merger: LayerNorm, each group of m² consecutive rows concatenated, Linear → GELU → Linear.
  const normed = h.map((x) => layerNorm(x, get('merger.norm.weight'), get('merger.norm.bias')));
  const unit = m * m;
  return Array.from({ length: normed.length / unit }, (_, t) => {
    const joined = new Float64Array(unit * D);
    for (let u = 0; u < unit; u++) joined.set(normed[t * unit + u], u * D);
    const hidden = affine(W, at('merger.linear_fc1'), joined, unit * D).map(geluExact);
    return affine(W, at('merger.linear_fc2'), hidden, v.outHiddenSize);
  });
}
