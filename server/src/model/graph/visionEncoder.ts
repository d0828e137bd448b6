/**
 * The Qwen3.5 vision tower as an ONNX graph, run one batch of frame pairs at a time:
 * patch embedding (the Conv3d is a linear map of each 1536-value patch row), learned
 * position embeddings interpolated (bilinear, align_corners) to the frame grid, 2-D rotary,
 * pre-LayerNorm blocks whose attention stays inside each frame pair, and the 2×2 merger.
 * Rows arrive in merge-block order (the video processor's patch order), so each group of
 * four consecutive rows is one merged token.
 *
 * The per-patch interpolation taps and rotary angles depend only on the grid, so they are
 * computed here in TypeScript (`visionAuxiliaries`) and fed to the graph. Inputs and the
 * features stay float32 at the boundary whatever the graph's precision.
 */
import type { Checkpoint } from '../checkpoint/checkpoint';
import type { VisionConfig } from '../checkpoint/config';
import { DT, Graph } from './onnxGraph';
import { computeType, type Precision } from './textDecoder';
import { type AttentionKind, decomposedBidirectionalAttention } from './attention';
import type { QuantizedWeights } from './quantizedWeights';

const f32 = Math.fround;

/** Row and column of each patch of one frame pair, in merge-block order. */
export function mergeBlockCoordinates(gh: number, gw: number, merge: number): { row: number; col: number }[] {
  const out: { row: number; col: number }[] = [];
  for (let br = 0; br < gh / merge; br++) {
    for (let bc = 0; bc < gw / merge; bc++) {
      for (let ir = 0; ir < merge; ir++) for (let ic = 0; ic < merge; ic++) out.push({ row: br * merge + ir, col: bc * merge + ic });
    }
  }
  return out;
}

/** One axis of bilinear resampling with align_corners=True, in float32 as torch computes it. */
function axisTaps(index: number, size: number, side: number): [number, number, number, number] {
  const src = f32(f32(index * (side - 1)) / Math.max(size - 1, 1));
  const floor = Math.floor(src);
  const clamp = (v: number) => Math.min(Math.max(v, 0), side - 1);
  const w0 = Math.max(f32(1 - Math.abs(f32(src - floor))), 0);
  const w1 = Math.max(f32(1 - Math.abs(f32(src - floor - 1))), 0);
  return [clamp(floor), w0, clamp(floor + 1), w1];
}

export interface VisionAuxiliaries {
  /** [S, 4] indices into the position table and [S, 4] weights. */
  posIndex: BigInt64Array;
  posWeight: Float32Array;
  /** [S, headDim] rotary cos and sin. */
  cos: Float32Array;
  sin: Float32Array;
}

/** Interpolation taps and rotary angles for one frame pair of gh × gw patches. */
export function visionAuxiliaries(v: VisionConfig, gh: number, gw: number): VisionAuxiliaries {
  const side = Math.round(Math.sqrt(v.numPositionEmbeddings));
  const headDim = v.hiddenSize / v.numHeads;
  const coords = mergeBlockCoordinates(gh, gw, v.spatialMergeSize);
  const S = coords.length;
  const posIndex = new BigInt64Array(S * 4);
  const posWeight = new Float32Array(S * 4);
  // Rotary: inv_freq over head_dim/2 (theta 10000); angles [h·f, w·f] repeated twice.
  const dim = headDim / 2;
  const invFreq = Array.from({ length: dim / 2 }, (_, j) => f32(1 / f32(Math.pow(10000, f32((2 * j) / dim)))));
  const cos = new Float32Array(S * headDim);
  const sin = new Float32Array(S * headDim);
  coords.forEach(({ row, col }, s) => {
    const [h0, hw0, h1, hw1] = axisTaps(row, gh, side);
    const [c0, cw0, c1, cw1] = axisTaps(col, gw, side);
    const taps: [number, number][] = [[h0 * side + c0, f32(hw0 * cw0)], [h0 * side + c1, f32(hw0 * cw1)], [h1 * side + c0, f32(hw1 * cw0)], [h1 * side + c1, f32(hw1 * cw1)]];
    taps.forEach(([index, weight], k) => {
      posIndex[s * 4 + k] = BigInt(index);
      posWeight[s * 4 + k] = weight;
    });
    const angles = [...invFreq.map((f) => f32(row * f)), ...invFreq.map((f) => f32(col * f))];
    [...angles, ...angles].forEach((a, d) => {
      cos[s * headDim + d] = Math.cos(a);
      sin[s * headDim + d] = Math.sin(a);
    });
  });
  return { posIndex, posWeight, cos, sin };
}

/**
 * Inputs: pixel_values [pairs, S, C·T·P·P], pos_index [S, 4], pos_weight [S, 4], cos/sin
 * [S, head_dim]. Output: features [pairs, S/4, out_hidden].
 */
export function buildVisionEncoder(checkpoint: Checkpoint, location: (file: string) => string, precision: Precision = 'fp32', attention: AttentionKind = 'fused', quantized?: QuantizedWeights): Graph {
  const v = checkpoint.config.vision;
  const ct = computeType(precision);
  const g = new Graph('qwen3_5_vision', location);
  const tensor = (name: string) => checkpoint.tensors.get(`model.visual.${name}`)!;
  const w = (name: string) => g.weight(tensor(name), ct);
  const i64 = (values: number[]) => g.constInt64(values);
  // x [..., in] · Wᵀ + b by Gemm over the rows, W as stored ([out, in]; transB reads it in
  // place: one in-memory copy of the weights, as in the text graph).
  const affine = (x: string, weight: string, bias: string, inputs: number, out: number) => {
    const rows = g.o('Gemm', [g.o('Reshape', [x, i64([-1, inputs])]), weight, bias], { transB: { int: 1 } });
    const leading = g.o('Slice', [g.o('Shape', [x]), i64([0]), i64([-1])]);
    return g.o('Reshape', [rows, g.o('Concat', [leading, i64([out])], { axis: { int: 0 } })]);
  };
  // Quantized weights: their kernel over the last axis (Graph.quantizedMatMul), with the bias. A weight of
  // more dimensions (the patch Conv3d) is quantized as [out, product of the rest].
  const linear = (x: string, name: string) => {
    if (quantized) return g.quantizedMatMul(x, g.quantizedWeight(tensor(`${name}.weight`), quantized, ct), w(`${name}.bias`));
    const [out, inputs] = tensor(`${name}.weight`).shape;
    return affine(x, w(`${name}.weight`), w(`${name}.bias`), inputs, out);
  };
  // float32 statistics whatever the input type (stash_type 1), as torch's LayerNorm keeps them.
  const layerNorm = (x: string, name: string) => g.o('LayerNormalization', [x, w(`${name}.weight`), w(`${name}.bias`)], { axis: { int: -1 }, epsilon: { float: 1e-6 }, stash_type: { int: 1 } });
  const patchDim = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
  const heads = v.numHeads;
  const headDim = v.hiddenSize / heads;

  const pixels = g.convert(g.input('pixel_values', DT.FLOAT, ['pairs', 'patches', patchDim]), DT.FLOAT, ct);
  const posIndex = g.input('pos_index', DT.INT64, ['patches', 4]);
  const posWeight = g.convert(g.input('pos_weight', DT.FLOAT, ['patches', 4]), DT.FLOAT, ct);
  const cos = g.convert(g.input('cos', DT.FLOAT, ['patches', headDim]), DT.FLOAT, ct);
  const sin = g.convert(g.input('sin', DT.FLOAT, ['patches', headDim]), DT.FLOAT, ct);

  // The Conv3d over whole patches is a linear map of each patch row.
  let hidden = quantized
    ? linear(pixels, 'patch_embed.proj')
    : affine(pixels, g.o('Reshape', [w('patch_embed.proj.weight'), i64([v.hiddenSize, patchDim])]), w('patch_embed.proj.bias'), patchDim, v.hiddenSize);
  const positions = g.o('ReduceSum', [g.o('Mul', [g.o('Gather', [w('pos_embed.weight'), posIndex]), g.o('Unsqueeze', [posWeight, i64([-1])])]), i64([1])], { keepdims: { int: 0 } });
  hidden = g.o('Add', [hidden, positions]); // [pairs, S, hidden]

  const cosH = g.o('Unsqueeze', [cos, i64([0, 2])]); // [1, S, 1, headDim]
  const sinH = g.o('Unsqueeze', [sin, i64([0, 2])]);
  const rotate = (x: string) => { // x: [pairs, S, heads, headDim]
    const [x1, x2] = g.op('Split', [x, i64([headDim / 2, headDim / 2])], { axis: { int: -1 } }, { outputs: 2 });
    return g.o('Add', [g.o('Mul', [x, cosH]), g.o('Mul', [g.o('Concat', [g.o('Neg', [x2]), x1], { axis: { int: -1 } }), sinH])]);
  };
  const packed = (x: string) => g.o('Reshape', [x, i64([0, 0, v.hiddenSize])]);

  for (let i = 0; i < v.depth; i++) {
    const p = `blocks.${i}`;
    const qkv = g.o('Reshape', [linear(layerNorm(hidden, `${p}.norm1`), `${p}.attn.qkv`), i64([0, 0, 3, heads, headDim])]);
    const [q, k, val] = g.op('Split', [qkv, i64([1, 1, 1])], { axis: { int: 2 } }, { outputs: 3 }).map((t) => g.o('Squeeze', [t, i64([2])]));
    // Bidirectional attention within each frame pair (one batch row per pair, so no mask)
    // by ONNX Runtime's MultiHeadAttention contrib operator (fused kernels on CUDA).
    const attended = attention === 'decomposed'
      ? decomposedBidirectionalAttention(g, { heads, headDim, scale: 1 / Math.sqrt(headDim) }, rotate(q), rotate(k), val, ct)
      : g.o('MultiHeadAttention', [packed(rotate(q)), packed(rotate(k)), packed(val)], {
        num_heads: { int: heads },
        scale: { float: 1 / Math.sqrt(headDim) },
      }, 'com.microsoft');
    hidden = g.o('Add', [hidden, linear(attended, `${p}.attn.proj`)]);
    const mlp = linear(g.o('Gelu', [linear(layerNorm(hidden, `${p}.norm2`), `${p}.mlp.linear_fc1`)], { approximate: { string: 'tanh' } }), `${p}.mlp.linear_fc2`);
    hidden = g.o('Add', [hidden, mlp]);
  }
  const unit = v.spatialMergeSize ** 2;
  const grouped = g.o('Reshape', [layerNorm(hidden, 'merger.norm'), i64([0, -1, v.hiddenSize * unit])]);
  const features = linear(g.o('Gelu', [linear(grouped, 'merger.linear_fc1')]), 'merger.linear_fc2');
  g.output('features', g.convert(features, ct, DT.FLOAT), DT.FLOAT, ['pairs', 'tokens', v.outHiddenSize]);
  return g;
}
