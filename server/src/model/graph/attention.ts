/**
 * Causal grouped-query attention over a cache, as standard ONNX operators (MatMul, Softmax,
 * a mask from Range): the same arithmetic as `com.microsoft.GroupQueryAttention`, for
 * execution providers whose fused kernel is not exact. ONNX Runtime's WebGPU kernel takes a
 * flash-attention path for 32 or more new tokens that is off by ~0.1 on the software
 * adapter (SwiftShader; measured on a one-node graph against the CPU kernel, 31 tokens exact),
 * so prefill — and hence cached decoding against full recomputation — diverged there.
 */
import { DT, type Graph } from './onnxGraph';

/** Which attention the text decoder uses: the fused contrib operator, or standard operators. */
export type AttentionKind = 'fused' | 'decomposed';

/** Attention's sizes: query heads, K/V heads (a divisor of heads), head size, score scale. */
export interface AttentionShape {
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
}

/**
 * q [1, seq, heads·dim], k and v [1, seq, kvHeads·dim] (packed, rotary applied), the cache
 * [1, kvHeads, past, dim] in the compute type `ct` → the output [1, seq, heads·dim] and the
 * present K/V [1, kvHeads, past + seq, dim]. Query head h reads K/V head ⌊h / (heads/kvHeads)⌋,
 * and new token i (absolute position past + i) sees cache positions 0 … past + i. Scores,
 * mask and softmax are float32 whatever `ct` (as the Hugging Face code's softmax is).
 */
export function decomposedAttention(g: Graph, s: AttentionShape, q: string, k: string, v: string, pastKey: string, pastValue: string, ct: number): { output: string; presentKey: string; presentValue: string } {
  const i64 = (values: number[]) => g.constInt64(values);
  const reshape = (x: string, dims: number[]) => g.o('Reshape', [x, i64(dims)]);
  const toHeads = (x: string, heads: number) => g.o('Transpose', [reshape(x, [1, -1, heads, s.headDim])], { perm: { ints: [0, 2, 1, 3] } }); // [1, heads, seq, dim]
  const presentKey = g.o('Concat', [pastKey, toHeads(k, s.kvHeads)], { axis: { int: 2 } });
  const presentValue = g.o('Concat', [pastValue, toHeads(v, s.kvHeads)], { axis: { int: 2 } });
  const group = s.heads / s.kvHeads;
  // Query heads grouped under their K/V head: [1, kvHeads, group·seq, dim], rows (r, i).
  const grouped = reshape(toHeads(q, s.heads), [1, s.kvHeads, -1, s.headDim]);
  const keysT = g.o('Transpose', [presentKey], { perm: { ints: [0, 1, 3, 2] } });
  const scores = g.o('Mul', [g.convert(g.o('MatMul', [grouped, keysT]), ct, DT.FLOAT), g.constFloat([s.scale], [])]); // [1, kv, group·seq, total]
  // Causal mask [seq, total]: key j is hidden from new token i when j > past + i.
  const seq = g.o('Gather', [g.o('Shape', [q]), i64([1])]);
  const total = g.o('Gather', [g.o('Shape', [presentKey]), i64([2])]);
  const past = g.o('Sub', [total, seq]);
  const scalar = (x: string) => g.o('Squeeze', [x, i64([0])]);
  const one = g.constInt64([1], []);
  const rows = g.o('Unsqueeze', [g.o('Add', [g.o('Range', [g.constInt64([0], []), scalar(seq), one]), past]), i64([1])]); // [seq, 1]
  const cols = g.o('Unsqueeze', [g.o('Range', [g.constInt64([0], []), scalar(total), one]), i64([0])]); // [1, total]
  const hidden = g.o('Greater', [cols, rows]);
  const withTotal = (dims: number[]) => g.o('Concat', [i64(dims), total], { axis: { int: 0 } });
  const byGroup = g.o('Reshape', [scores, withTotal([1, s.kvHeads, group, -1])]); // [1, kv, group, seq, total]
  const masked = g.o('Where', [hidden, g.constFloat([-Infinity], []), byGroup]);
  const probs = g.convert(g.o('Reshape', [g.o('Softmax', [masked], { axis: { int: -1 } }), withTotal([1, s.kvHeads, -1])]), DT.FLOAT, ct);
  const context = reshape(g.o('MatMul', [probs, presentValue]), [1, s.heads, -1, s.headDim]); // heads in order kv·group + r
  const output = reshape(g.o('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }), [1, -1, s.heads * s.headDim]);
  return { output, presentKey, presentValue };
}

/**
 * Bidirectional attention within each batch row (the vision tower's frame pairs) as
 * standard operators, the same arithmetic as `com.microsoft.MultiHeadAttention` without a
 * mask: q, k, v [batch, seq, heads, dim] in `ct` → [batch, seq, heads·dim]. Softmax in
 * float32. ONNX Runtime's WebGPU MultiHeadAttention is off by ~0.2 from 32 tokens per row
 * on the software adapter, as GroupQueryAttention is.
 */
export function decomposedBidirectionalAttention(g: Graph, s: Pick<AttentionShape, 'heads' | 'headDim' | 'scale'>, q: string, k: string, v: string, ct: number): string {
  const transpose = (x: string, perm: number[]) => g.o('Transpose', [x], { perm: { ints: perm } });
  const scores = g.o('Mul', [g.convert(g.o('MatMul', [transpose(q, [0, 2, 1, 3]), transpose(k, [0, 2, 3, 1])]), ct, DT.FLOAT), g.constFloat([s.scale], [])]); // [batch, heads, seq, seq]
  const probs = g.convert(g.o('Softmax', [scores], { axis: { int: -1 } }), DT.FLOAT, ct);
  const context = transpose(g.o('MatMul', [probs, transpose(v, [0, 2, 1, 3])]), [0, 2, 1, 3]); // [batch, seq, heads, dim]
  return g.o('Reshape', [context, g.constInt64([0, 0, s.heads * s.headDim])]);
}

/**
 * One new token's grouped-query attention inside the decode Loop, which never copies the
 * cache it started from: q [1, 1, heads·dim], k and v [1, 1, kvHeads·dim] (rotary applied);
 * `pastKey`/`pastValue` [1, kvHeads, past, dim] are the Loop's starting cache, read where
 * they lie; `blockKey`/`blockValue` [1, kvHeads, n, dim] the K/V of the tokens this Loop has
 * made so far (at most a block long, carried from step to step). Returns the output
 * [1, 1, heads·dim] and the block grown by this token. Carrying the whole cache instead made
 * every step copy it (GroupQueryAttention writes past + new into a fresh present: at 8k
 * context 12 ms a step for one layer of Qwen3.5-2B's width, docs/engine.md), so decoding
 * slowed with the context; here a step reads the cache once and copies only the block.
 * The scores against the cache are K·qᵀ, transposed afterwards: [heads × past] floats,
 * where transposing K itself would copy the cache. Softmax in float32, as elsewhere.
 */
export function blockDecodeAttention(g: Graph, s: AttentionShape, q: string, k: string, v: string, past: { key: string; value: string }, block: { key: string; value: string }, ct: number): { output: string; blockKey: string; blockValue: string } {
  const i64 = (values: number[]) => g.constInt64(values);
  const reshape = (x: string, dims: number[]) => g.o('Reshape', [x, i64(dims)]);
  const swapLast = (x: string) => g.o('Transpose', [x], { perm: { ints: [0, 1, 3, 2] } });
  const toHeads = (x: string) => reshape(x, [1, s.kvHeads, 1, s.headDim]); // one token: [1, seq, kv·dim] is already head-major
  const blockKey = g.o('Concat', [block.key, toHeads(k)], { axis: { int: 2 } });
  const blockValue = g.o('Concat', [block.value, toHeads(v)], { axis: { int: 2 } });
  // Query head h reads K/V head ⌊h / group⌋: [1, kvHeads, group, dim].
  const grouped = reshape(q, [1, s.kvHeads, s.heads / s.kvHeads, s.headDim]);
  const pastScores = swapLast(g.o('MatMul', [past.key, swapLast(grouped)])); // [1, kv, group, past]
  const blockScores = g.o('MatMul', [grouped, swapLast(blockKey)]); // [1, kv, group, n]
  const scores = g.o('Mul', [g.convert(g.o('Concat', [pastScores, blockScores], { axis: { int: -1 } }), ct, DT.FLOAT), g.constFloat([s.scale], [])]);
  const probs = g.convert(g.o('Softmax', [scores], { axis: { int: -1 } }), DT.FLOAT, ct);
  const pastLength = g.o('Gather', [g.o('Shape', [past.key]), i64([2])]);
  const slice = (from: string, to: string) => g.o('Slice', [probs, from, to, i64([-1])]);
  const context = g.o('Add', [
    g.o('MatMul', [slice(i64([0]), pastLength), past.value]),
    g.o('MatMul', [slice(pastLength, i64([2147483647])), blockValue]),
  ]); // [1, kv, group, dim]: heads in order kv·group + r
  return { output: reshape(context, [1, 1, s.heads * s.headDim]), blockKey, blockValue };
}
