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
 * `past` is the Loop's starting cache [1, kvHeads, past, dim], read where it lies; `block`
 * the K/V of the tokens this Loop has made so far (at most a block long, carried from step
 * to step), both as the cache holds them (`CachedKv`). Returns the output [1, 1, heads·dim]
 * and the block grown by this token. Carrying the whole cache instead made every step copy
 * it (GroupQueryAttention writes past + new into a fresh present: at 8k context 12 ms a step
 * for one layer of Qwen3.5-2B's width, docs/engine.md), so decoding slowed with the
 * context; here a step reads the cache once and copies only the block. The scores against
 * a float cache are K·qᵀ, transposed afterwards: [heads × past] floats, where transposing K
 * itself would copy the cache; against an 8-bit cache, integer products (int8PastScores).
 * Softmax in float32, as elsewhere.
 */
export function blockDecodeAttention(g: Graph, s: AttentionShape, q: string, k: string, v: string, past: { key: CachedKv; value: CachedKv }, block: { key: CachedKv; value: CachedKv }, ct: number): { output: string; blockKey: CachedKv; blockValue: CachedKv } {
  const i64 = (values: number[]) => g.constInt64(values);
  const reshape = (x: string, dims: number[]) => g.o('Reshape', [x, i64(dims)]);
  const swapLast = (x: string) => g.o('Transpose', [x], { perm: { ints: [0, 1, 3, 2] } });
  const toHeads = (x: string) => reshape(x, [1, s.kvHeads, 1, s.headDim]); // one token: [1, seq, kv·dim] is already head-major
  const kind = kvCacheKind(past.key);
  const blockKey = concatKv(g, block.key, asCached(g, kind, toHeads(k), ct).stored);
  const blockValue = concatKv(g, block.value, asCached(g, kind, toHeads(v), ct).stored);
  const group = s.heads / s.kvHeads;
  // Query head h reads K/V head ⌊h / group⌋: [1, kvHeads, group, dim].
  const grouped = reshape(q, [1, s.kvHeads, group, s.headDim]);
  const pastScores = typeof past.key === 'string'
    ? g.convert(swapLast(g.o('MatMul', [past.key, swapLast(grouped)])), ct, DT.FLOAT) // [1, kv, group, past]
    : int8PastScores(g, g.convert(grouped, ct, DT.FLOAT), group, past.key);
  const blockScores = g.convert(g.o('MatMul', [grouped, swapLast(floatKv(g, blockKey, ct))]), ct, DT.FLOAT); // [1, kv, group, n]
  const scores = g.o('Mul', [g.o('Concat', [pastScores, blockScores], { axis: { int: -1 } }), g.constFloat([s.scale], [])]);
  const probs = g.o('Softmax', [scores], { axis: { int: -1 } });
  const pastLength = g.o('Gather', [g.o('Shape', [typeof past.value === 'string' ? past.value : past.value.values]), i64([2])]);
  const slice = (from: string, to: string) => g.o('Slice', [probs, from, to, i64([-1])]);
  const pastProbs = slice(i64([0]), pastLength);
  const pastContext = typeof past.value === 'string'
    ? g.o('MatMul', [g.convert(pastProbs, DT.FLOAT, ct), past.value])
    : g.convert(int8PastValues(g, pastProbs, group, past.value), DT.FLOAT, ct);
  const blockContext = g.o('MatMul', [g.convert(slice(pastLength, i64([2147483647])), DT.FLOAT, ct), floatKv(g, blockValue, ct)]);
  const context = g.o('Add', [pastContext, blockContext]); // [1, kv, group, dim]: heads in order kv·group + r
  return { output: reshape(context, [1, 1, s.heads * s.headDim]), blockKey, blockValue };
}

/**
 * An 8-bit K/V cache: `values` [1, kvHeads, n, dim] uint8 holding round(x / scale) + 128,
 * and `scales` [1, kvHeads, n, 1] float32, one per head and token (symmetric, scale =
 * max|x| / 127). A quarter of a float32 cache's bytes, which decoding at long contexts
 * reads once per token. Unsigned with a zero point because ONNX Runtime's CPU
 * MatMulInteger is fast for uint8 left operands and slow for int8 ones (measured at the
 * cache's shape: 1.1 against 3.6 ms for the keys of one layer at 24k, docs/engine.md).
 */
export interface Int8Kv {
  values: string;
  scales: string;
}

/**
 * What the K/V cache holds: values in the compute type, or 8 bits with a scale per head and
 * token (`Int8Kv`: a quarter of float32's bytes; CPU only, docs/engine.md "Decoding at long
 * contexts").
 */
export type KvCacheKind = 'float' | 'int8';

/** One layer's keys or values as the cache holds them: a float tensor, or 8 bits and scales. */
export type CachedKv = string | Int8Kv;

export function kvCacheKind(kv: CachedKv): KvCacheKind {
  return typeof kv === 'string' ? 'float' : 'int8';
}

/** Two cache parts joined along the token axis (values and scales alike). */
export function concatKv(g: Graph, a: CachedKv, b: CachedKv): CachedKv {
  const concat = (x: string, y: string) => g.o('Concat', [x, y], { axis: { int: 2 } });
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a !== 'string' || typeof b !== 'string') throw new Error('concatKv: a float and an 8-bit cache part');
    return concat(a, b);
  }
  return { values: concat(a.values, b.values), scales: concat(a.scales, b.scales) };
}

/** A cache part's values as floats in `ct` [1, kvHeads, n, dim]. */
export function floatKv(g: Graph, kv: CachedKv, ct: number): string {
  return typeof kv === 'string' ? kv : g.convert(dequantizeKv(g, kv), DT.FLOAT, ct);
}

/**
 * New tokens' K or V [1, kvHeads, n, dim] in `ct` as a cache of `kind` will hold them
 * (`stored`) and the floats attention reads for them now (`seen`): for an 8-bit cache the
 * quantized values dequantized, so that a token's K/V read the same before and after they
 * are cached, and the decode Loop's tokens equal one run per token's.
 */
export function asCached(g: Graph, kind: KvCacheKind, x: string, ct: number): { stored: CachedKv; seen: string } {
  if (kind === 'float') return { stored: x, seen: x };
  const stored = quantizeKv(g, g.convert(x, ct, DT.FLOAT));
  return { stored, seen: floatKv(g, stored, ct) };
}

/** round(x) + 128 as uint8, for x within ±127. */
function toUint8(g: Graph, rounded: string): string {
  return g.o('Cast', [g.o('Add', [rounded, g.constFloat([128], [])])], { to: { int: DT.UINT8 } });
}

/** The zero point of the cache and of the attention weights' parts (a constant: the Cast folds at load). */
function zeroPoint(g: Graph): string {
  return g.o('Cast', [g.constInt64([128], [])], { to: { int: DT.UINT8 } });
}

/** float32 K or V [1, kvHeads, n, dim] → 8 bits with a scale per head and token (the integer GEMM's per-row quantizer). */
export function quantizeKv(g: Graph, x: string): Int8Kv {
  const { quantized, rowScale } = g.rowQuantized(x);
  return { values: quantized, scales: rowScale };
}

/** The float32 values an 8-bit K/V cache stands for. */
export function dequantizeKv(g: Graph, kv: Int8Kv): string {
  return g.o('Mul', [g.o('Sub', [g.o('Cast', [kv.values], { to: { int: DT.FLOAT } }), g.constFloat([128], [])]), kv.scales]);
}

/**
 * Float32 rows x [..., rows, cols] in 8 bits with ~15 bits of precision, for integer
 * matrix products against the 8-bit cache: per row y = x / s (s = max|x| / 127), a high
 * part round(y) and a low part round((y − round(y)) · 254), stacked as rows
 * [..., 2·rows, cols]; x ≈ s · (high + low / 254), within s / 508. One product serves both
 * parts, so the cache is read once, and what stays inexact is the cache's own 8 bits.
 */
function splitTo8Bits(g: Graph, x: string, as: 'uint8' | 'int8'): { parts: string; scales: string } {
  const scales = g.rowScale(x, { rank: 4 }); // the weights over an empty cache have no columns
  const y = g.o('Div', [x, scales]);
  const high = g.o('Round', [y]);
  const low = g.o('Round', [g.o('Mul', [g.o('Sub', [y, high]), g.constFloat([254], [])])]);
  const stacked = g.o('Concat', [high, low], { axis: { int: -2 } });
  return { parts: as === 'uint8' ? toUint8(g, stacked) : g.o('Cast', [stacked], { to: { int: DT.INT8 } }), scales };
}

/** int32 products of stacked high and low parts (2·rows along `axis`) → float32 high + low / 254. */
function joinParts(g: Graph, products: string, rows: number, axis: number): string {
  const [high, low] = g.op('Split', [g.o('Cast', [products], { to: { int: DT.FLOAT } }), g.constInt64([rows, rows])], { axis: { int: axis } }, { outputs: 2 });
  return g.o('Add', [high, g.o('Mul', [low, g.constFloat([1 / 254], [])])]);
}

/**
 * One new token's attention scores against an 8-bit key cache, read where it lies:
 * `grouped` [1, kvHeads, group, dim] float32 (query heads under their K/V head) →
 * [1, kvHeads, group, past], unscaled q·k. K·qᵀ by MatMulInteger with the cache as the
 * left operand, streamed as stored (a transposed copy would cost what reading it does).
 * The [past × 2·group] integer products become scores by one small MatMul with the
 * query's scales (high + low / 254, times s) and one multiplication by the key scales along
 * the tokens: elementwise operators broadcasting over a last axis of `group` (4) were a
 * third of the layer's time (ONNX Runtime's profiler, 8k context).
 */
export function int8PastScores(g: Graph, grouped: string, group: number, key: Int8Kv): string {
  // The query's parts signed, without a zero point: ONNX Runtime then needs no row sums of
  // the cache (measured at 24k: 1.9 against 2.6 ms for this product with a zero point on both).
  const q = splitTo8Bits(g, grouped, 'int8'); // parts [1, kv, 2·group, dim], scales [1, kv, group, 1]
  const products = g.o('MatMulInteger', [key.values, g.o('Transpose', [q.parts], { perm: { ints: [0, 1, 3, 2] } }), zeroPoint(g)]); // [1, kv, past, 2·group]
  // [2·group, group]: row r and row group + r (r's high and low part) → column r, weighted 1 and 1/254, times r's scale.
  const parts = new Float32Array(2 * group * group);
  for (let r = 0; r < group; r++) [parts[r * group + r], parts[(group + r) * group + r]] = [1, 1 / 254];
  const combine = g.o('Mul', [g.constFloat(parts, [2 * group, group]), g.o('Transpose', [q.scales], { perm: { ints: [0, 1, 3, 2] } })]); // [1, kv, 2·group, group]
  const byToken = g.o('MatMul', [g.o('Cast', [products], { to: { int: DT.FLOAT } }), combine]); // [1, kv, past, group]
  const keyScales = g.o('Reshape', [key.scales, g.constInt64([0, 0, 1, -1])]); // [1, kv, 1, past]
  return g.o('Mul', [g.o('Transpose', [byToken], { perm: { ints: [0, 1, 3, 2] } }), keyScales]);
}

/**
 * Attention weights over the past [1, kvHeads, group, past] float32 times an 8-bit value
 * cache [1, kvHeads, past, dim] → [1, kvHeads, group, dim]: the value scales folded into
 * the weights, then one MatMulInteger over the cache as stored.
 */
export function int8PastValues(g: Graph, probs: string, group: number, value: Int8Kv): string {
  const weighted = g.o('Mul', [probs, g.o('Reshape', [value.scales, g.constInt64([0, 0, 1, -1])])]);
  const p = splitTo8Bits(g, weighted, 'uint8'); // parts [1, kv, 2·group, past]
  const products = g.o('MatMulInteger', [p.parts, value.values, zeroPoint(g), zeroPoint(g)]); // [1, kv, 2·group, dim]
  return g.o('Mul', [joinParts(g, products, group, -2), p.scales]);
}
