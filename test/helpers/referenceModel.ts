/**
 * A plain float64 forward pass of the Qwen3.5 text decoder, written line by line from the
 * Hugging Face modeling code (modeling_qwen3_5.py), independent of our ONNX graph builder:
 * the test holds the two to the same logits.
 */
import { type Checkpoint } from '../../server/src/model/checkpoint/checkpoint';
import { fromBfloat16, readTensorBytes } from '../../server/src/model/checkpoint/safetensors';

export type Vec = Float64Array;

export async function loadWeights(checkpoint: Checkpoint, prefix = 'model.language_model'): Promise<Map<string, Vec>> {
  const out = new Map<string, Vec>();
  for (const info of checkpoint.tensors.values()) {
    if (!info.name.startsWith(prefix)) continue;
    const bytes = await readTensorBytes(info);
    out.set(info.name, Float64Array.from(fromBfloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2))));
  }
  return out;
}

/** y = W x for W [out, in] row-major. */
export function matvec(w: Vec, x: Vec, out: number): Vec {
  const n = x.length;
  const y = new Float64Array(out);
  for (let i = 0; i < out; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += w[i * n + j] * x[j];
    y[i] = s;
  }
  return y;
}

function rms(x: Vec, w: Vec, eps: number, plusOne: boolean): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * inv * (plusOne ? 1 + w[i] : w[i]));
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const silu = (v: number) => v * sigmoid(v);
const softplus = (v: number) => Math.log1p(Math.exp(v));

/** `head`: the LM head's weight when it is not the embedding table (tied by default, as Qwen3.5-2B's is). */
export function referenceForward(checkpoint: Checkpoint, W: Map<string, Vec>, ids: number[], positions: number[][], head?: Vec): Vec[] {
  const t = checkpoint.config.text;
  const get = (name: string) => W.get(`model.language_model.${name}`)!;
  const H = t.hiddenSize;
  const T = ids.length;
  const embed = get('embed_tokens.weight');
  let h: Vec[] = ids.map((id) => embed.slice(id * H, (id + 1) * H));

  // Rotary: inv_freq over the rotary dims; recomposition takes T, then H at 1, 4, 7… below
  // 3·section[1] and W at 2, 5, 8… below 3·section[2] — always interleaved: upstream's
  // Qwen3_5TextRotaryEmbedding ignores mrope_interleaved.
  const R = Math.round(t.headDim * t.partialRotaryFactor);
  const inv = Array.from({ length: R / 2 }, (_, j) => 1 / t.ropeTheta ** ((2 * j) / R));
  const [, s1, s2] = t.mropeSection;
  const stream = (j: number) => (j % 3 === 1 && j < s1 * 3 ? 1 : j % 3 === 2 && j < s2 * 3 ? 2 : 0);
  const angles = Array.from({ length: T }, (_, p) => {
    const f = inv.map((v, j) => v * positions[stream(j)][p]);
    return [...f, ...f];
  });
  const rope = (x: Vec, p: number) => {
    const out = x.slice();
    for (let i = 0; i < R; i++) {
      const rotated = i < R / 2 ? -x[i + R / 2] : x[i - R / 2];
      out[i] = x[i] * Math.cos(angles[p][i]) + rotated * Math.sin(angles[p][i]);
    }
    return out;
  };

  t.layerTypes.forEach((type, layer) => {
    const p = `layers.${layer}`;
    const xs = h.map((v) => rms(v, get(`${p}.input_layernorm.weight`), t.rmsNormEps, true));
    let mixed: Vec[];
    if (type === 'full_attention') {
      const D = t.headDim;
      const nH = t.numAttentionHeads;
      const kvH = t.numKeyValueHeads;
      const q: Vec[][] = [];
      const gate: Vec[] = [];
      const k: Vec[][] = [];
      const v: Vec[][] = [];
      // nn.Linear(bias=attention_bias) for q/k/v/o: the bias is added to the projection.
      const proj = (name: string, x: Vec, out: number) => {
        const y = matvec(get(`${p}.self_attn.${name}.weight`), x, out);
        if (t.attentionBias) get(`${p}.self_attn.${name}.bias`).forEach((b, i) => { y[i] += b; });
        return y;
      };
      xs.forEach((x, pos) => {
        const qg = proj('q_proj', x, nH * D * 2);
        const kk = proj('k_proj', x, kvH * D);
        const vv = proj('v_proj', x, kvH * D);
        q.push(Array.from({ length: nH }, (_, hd) => rope(rms(qg.slice(hd * 2 * D, hd * 2 * D + D), get(`${p}.self_attn.q_norm.weight`), t.rmsNormEps, true), pos)));
        const g = new Float64Array(nH * D);
        for (let hd = 0; hd < nH; hd++) g.set(qg.slice(hd * 2 * D + D, (hd + 1) * 2 * D), hd * D);
        gate.push(g);
        k.push(Array.from({ length: kvH }, (_, hd) => rope(rms(kk.slice(hd * D, (hd + 1) * D), get(`${p}.self_attn.k_norm.weight`), t.rmsNormEps, true), pos)));
        v.push(Array.from({ length: kvH }, (_, hd) => vv.slice(hd * D, (hd + 1) * D)));
      });
      mixed = xs.map((_, i) => {
        const out = new Float64Array(nH * D);
        for (let hd = 0; hd < nH; hd++) {
          const kv = Math.floor(hd / (nH / kvH));
          const scores = Array.from({ length: i + 1 }, (_, j) => q[i][hd].reduce((s, qv, d) => s + qv * k[j][kv][d], 0) / Math.sqrt(D));
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const z = e.reduce((a, b) => a + b, 0);
          for (let j = 0; j <= i; j++) for (let d = 0; d < D; d++) out[hd * D + d] += (e[j] / z) * v[j][kv][d];
        }
        return proj('o_proj', out.map((o, c) => o * sigmoid(gate[i][c])), H);
      });
    } else {
      const kH = t.linearNumKeyHeads, vH = t.linearNumValueHeads, dk = t.linearKeyHeadDim, dv = t.linearValueHeadDim, K = t.linearConvKernel;
      const C = kH * dk * 2 + vH * dv;
      const a = `${p}.linear_attn`;
      const qkv = xs.map((x) => matvec(get(`${a}.in_proj_qkv.weight`), x, C));
      const conv = get(`${a}.conv1d.weight`);
      const mixedQkv = qkv.map((_, tt) => Float64Array.from({ length: C }, (_, c) => {
        let s = 0;
        for (let j = 0; j < K; j++) {
          const src = tt - (K - 1) + j;
          if (src >= 0) s += conv[c * K + j] * qkv[src][c];
        }
        return silu(s);
      }));
      const l2 = (x: Vec) => { const n = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) + 1e-6); return x.map((v) => v * n); };
      const S = Array.from({ length: vH }, () => new Float64Array(dk * dv));
      mixed = xs.map((x, tt) => {
        const b = matvec(get(`${a}.in_proj_b.weight`), x, vH);
        const av = matvec(get(`${a}.in_proj_a.weight`), x, vH);
        const z = matvec(get(`${a}.in_proj_z.weight`), x, vH * dv);
        const out = new Float64Array(vH * dv);
        for (let hv = 0; hv < vH; hv++) {
          const hk = Math.floor(hv / (vH / kH));
          const qh = l2(mixedQkv[tt].slice(hk * dk, (hk + 1) * dk)).map((v) => v / Math.sqrt(dk));
          const kh = l2(mixedQkv[tt].slice(kH * dk + hk * dk, kH * dk + (hk + 1) * dk));
          const vh = mixedQkv[tt].slice(2 * kH * dk + hv * dv, 2 * kH * dk + (hv + 1) * dv);
          const beta = sigmoid(b[hv]);
          const g = -Math.exp(get(`${a}.A_log`)[hv]) * softplus(av[hv] + get(`${a}.dt_bias`)[hv]);
          const s = S[hv];
          for (let i = 0; i < dk * dv; i++) s[i] *= Math.exp(g);
          for (let d = 0; d < dv; d++) {
            let mem = 0;
            for (let kk = 0; kk < dk; kk++) mem += s[kk * dv + d] * kh[kk];
            const delta = (vh[d] - mem) * beta;
            for (let kk = 0; kk < dk; kk++) s[kk * dv + d] += kh[kk] * delta;
          }
          const o = Float64Array.from({ length: dv }, (_, d) => { let r = 0; for (let kk = 0; kk < dk; kk++) r += s[kk * dv + d] * qh[kk]; return r; });
          const normed = rms(o, get(`${a}.norm.weight`), t.rmsNormEps, false);
          for (let d = 0; d < dv; d++) out[hv * dv + d] = normed[d] * silu(z[hv * dv + d]);
        }
        return matvec(get(`${a}.out_proj.weight`), out, H);
      });
    }
    h = h.map((v, i) => v.map((x, j) => x + mixed[i][j]));
    h = h.map((v) => {
      const m = rms(v, get(`${p}.post_attention_layernorm.weight`), t.rmsNormEps, true);
      const gate = matvec(get(`${p}.mlp.gate_proj.weight`), m, t.intermediateSize);
      const up = matvec(get(`${p}.mlp.up_proj.weight`), m, t.intermediateSize);
      const down = matvec(get(`${p}.mlp.down_proj.weight`), gate.map((gv, i) => silu(gv) * up[i]), H);
      return v.map((x, j) => x + down[j]);
    });
  });
  return h.map((v) => matvec(head ?? embed, rms(v, get('norm.weight'), t.rmsNormEps, true), t.vocabSize));
}

/** Distinct T/H/W positions, as a video prompt has: they exercise the multimodal rotary. */
export function videoLikePositions(count: number): number[][] {
  return [0, 2, 5].map((shift) => Array.from({ length: count }, (_, i) => i + (i > 3 ? shift : 0)));
}

/** The largest |difference| between reference rows and logits (row-major, same width). */
export function maxDifference(reference: Float64Array[], logits: Float32Array | Float64Array[]): number {
  let diff = 0;
  reference.forEach((row, r) => row.forEach((v, j) => {
    const other = Array.isArray(logits) ? logits[r][j] : logits[r * row.length + j];
    diff = Math.max(diff, Math.abs(v - other));
  }));
  return diff;
}
