/**
 * The Qwen3.5 text decoder as one ONNX graph, built from config.json: embedding (with
 * visual features scattered over the placeholder positions), the hybrid stack following
 * layer_types — Gated DeltaNet layers (causal depthwise conv + gated delta rule) and gated
 * full attention with interleaved multimodal partial rotary — (1 + w) RMSNorms, SwiGLU MLPs
 * and the (tied) LM head. The cache crosses the graph boundary explicitly: K/V per full
 * attention layer, conv and recurrent state per DeltaNet layer. Arithmetic in float32, or
 * float16 for GPUs (`Precision`); bf16 weights are cast inside the graph either way. ONNX
 * Runtime's contrib operators do the model-specific work (CausalConvWithState,
 * LinearAttention, GroupQueryAttention, MRotaryEmbedding, (Skip)SimplifiedLayerNormalization);
 * standard ONNX operators the rest.
 */
import type { Checkpoint } from '../checkpoint/checkpoint';
import type { TextConfig } from '../checkpoint/config';
import { asCached, type AttentionKind, blockDecodeAttention, type CachedKv, concatKv, decomposedAttention, floatKv, type KvCacheKind } from './attention';
import { type Dim, DT, Graph, type QuantizedOperand } from './onnxGraph';
import type { LinearRole, QuantizedWeights } from './quantizedWeights';

/**
 * The graph's arithmetic type. fp16 halves the weights' device memory and the cache that
 * crosses the session boundary, and runs on tensor cores; norms, the DeltaNet gates and
 * the recurrent state stay float32 (as the Hugging Face code keeps them), and logits
 * leave the graph as float32.
 */
export type Precision = 'fp32' | 'fp16';

export function computeType(precision: Precision): number {
  return precision === 'fp16' ? DT.FLOAT16 : DT.FLOAT;
}

export interface CacheSpec {
  layer: number;
  /** `key_scale`/`value_scale`: an 8-bit K/V cache's scales, one per head and token. */
  kind: 'key' | 'value' | 'key_scale' | 'value_scale' | 'conv' | 'recurrent';
  input: string;
  output: string;
  /** Shape with 'past' for the growing dimension of K/V. */
  dims: Dim[];
  /** ONNX element type: the compute type, except the recurrent state and K/V scales (float32) and an 8-bit K/V cache (uint8). */
  elemType: number;
}

/** The cache tensors of the decoder, in a fixed order. */
export function cacheSpecs(t: TextConfig, precision: Precision = 'fp32', kvCache: KvCacheKind = 'float'): CacheSpec[] {
  const specs: CacheSpec[] = [];
  const ct = computeType(precision);
  const convDim = t.linearNumKeyHeads * t.linearKeyHeadDim * 2 + t.linearNumValueHeads * t.linearValueHeadDim;
  t.layerTypes.forEach((type, layer) => {
    if (type === 'full_attention') {
      for (const kind of ['key', 'value'] as const) {
        specs.push({ layer, kind, input: `past_${kind}.${layer}`, output: `present_${kind}.${layer}`, dims: [1, t.numKeyValueHeads, 'past', t.headDim], elemType: kvCache === 'int8' ? DT.UINT8 : ct });
        if (kvCache === 'int8') specs.push({ layer, kind: `${kind}_scale`, input: `past_${kind}_scale.${layer}`, output: `present_${kind}_scale.${layer}`, dims: [1, t.numKeyValueHeads, 'past', 1], elemType: DT.FLOAT });
      }
    } else {
      specs.push({ layer, kind: 'conv', input: `past_conv.${layer}`, output: `present_conv.${layer}`, dims: [1, convDim, t.linearConvKernel - 1], elemType: ct });
      specs.push({ layer, kind: 'recurrent', input: `past_recurrent.${layer}`, output: `present_recurrent.${layer}`, dims: [1, t.linearNumValueHeads, t.linearKeyHeadDim, t.linearValueHeadDim], elemType: DT.FLOAT });
    }
  });
  return specs;
}

/** inv_freq of the text rotary embedding, in float32 as torch computes it. */
export function rotaryInvFreq(t: TextConfig): Float32Array {
  const dim = Math.round(t.headDim * t.partialRotaryFactor);
  const out = new Float32Array(dim / 2);
  for (let j = 0; j < dim / 2; j++) {
    out[j] = Math.fround(1 / Math.fround(Math.pow(t.ropeTheta, Math.fround((2 * j) / dim))));
  }
  return out;
}

/**
 * Rows of the rotary tables: one per position up to max_position_embeddings, capped so that a
 * config cannot make them unbounded (262,144 rows × 32 frequencies × 2 tables = 64 MiB for
 * Qwen3.5's own limit, which is this cap).
 */
export const ROTARY_TABLE_MAX_ROWS = 262_144;

export function rotaryTableRows(t: TextConfig): number {
  return Math.min(t.maxPositionEmbeddings, ROTARY_TABLE_MAX_ROWS);
}

/**
 * cos/sin tables [rows, rotary/2] of position × inv_freq (float32 products, as torch forms
 * them), for MRotaryEmbedding to index by each position stream. Built from constants only,
 * so ONNX Runtime folds them once at session creation; emit them in the outermost graph.
 */
export function emitRotaryTables(g: Graph, t: TextConfig, ct: number): { cos: string; sin: string } {
  const half = Math.round(t.headDim * t.partialRotaryFactor) / 2;
  const rows = g.o('Range', [g.constInt64([0], []), g.constInt64([rotaryTableRows(t)], []), g.constInt64([1], [])]);
  const positions = g.o('Unsqueeze', [g.o('Cast', [rows], { to: { int: DT.FLOAT } }), g.constInt64([1])]); // [rows, 1]
  const freqs = g.o('Mul', [positions, g.constFloat(rotaryInvFreq(t), [1, half])]);
  return { cos: g.convert(g.o('Cos', [freqs]), DT.FLOAT, ct), sin: g.convert(g.o('Sin', [freqs]), DT.FLOAT, ct) };
}

/** The values the decoder reads; the graph or loop body that hosts it provides them. */
export interface DecoderInputs {
  inputIds: string;
  positionIds: string;
  /** Vision features [n, hidden] and their token indices [n, 1]; absent in decode-only bodies. */
  visual?: { embeds: string; index: string };
  /** The rotary tables (emitRotaryTables), from the outermost graph. */
  rotary: { cos: string; sin: string };
  /** Logits from this position on ([1] int64). */
  logitsStart: string;
  /** The value holding each cache input (by its graph input name, e.g. `past_key.3`). */
  cache: (inputName: string) => string;
  /**
   * Inside the decode Loop: the K/V cache the Loop started from (by input name), read in
   * place; `cache` then gives, for K/V, only the tokens this Loop has made
   * (blockDecodeAttention), and the present K/V are that block grown by one.
   */
  loopStart?: (inputName: string) => string;
}

export interface DecoderOutputs {
  logits: string;
  /** Present cache values by output name (e.g. `present_key.3`). */
  present: Map<string, string>;
}

/**
 * A checkpoint tensor as a graph value of the given element type; always a value of the
 * outermost graph, so that every branch and loop body shares one copy.
 */
export type WeightOf = (name: string, elemType: number) => string;

/** The checkpoint's tensors as the decoder reads them; every function returns outermost-graph values. */
export interface DecoderWeights {
  /** A tensor converted to an element type (the cast folds at load). */
  value: WeightOf;
  /** A tensor as stored (bf16), for row lookups that convert only the rows they read. */
  stored: (name: string) => { value: string; elemType: number };
  /** Linear weights quantized (as a linear layer or as the head); absent: every linear layer is a Gemm on `value`. */
  quantized?: (name: string, elemType: number, role?: LinearRole) => QuantizedOperand;
}

/**
 * Emits the decoder's nodes into `g` (a model graph or a Loop body), computing in `ct`
 * (DT.FLOAT or DT.FLOAT16). Logits come out as float32.
 */
export function emitDecoder(g: Graph, t: TextConfig, weights: DecoderWeights, io: DecoderInputs, ct: number, attention: AttentionKind = 'fused', kvCache: KvCacheKind = 'float'): DecoderOutputs {
  const w = (name: string) => weights.value(name, ct);
  const f32 = (name: string) => weights.value(name, DT.FLOAT);
  /** A float constant in the compute type (cast from float32: folded at session creation). */
  const constant = (values: number[] | Float32Array, dims: number[]) => g.convert(g.constFloat(values, dims), DT.FLOAT, ct);
  const present = new Map<string, string>();
  const i64 = (values: number[]) => g.constInt64(values);
  const reshape = (x: string, dims: number[]) => g.o('Reshape', [x, i64(dims)]);
  const transpose = (x: string, perm: number[]) => g.o('Transpose', [x], { perm: { ints: perm } });
  // x [1, seq, in] · Wᵀ with W as stored ([out, in]): Gemm's transB reads it in place, so the
  // weights' one in-memory copy is the cast ONNX Runtime folds at load (a transposed
  // copy for MatMul would be a second; docs/engine.md, "Memory"). A bias is Gemm's C.
  // Quantized weights: their kernel's layout (graph/quantizedWeights.ts); the head, which only
  // ever sees the last rows, may be laid out apart from the linear layers.
  const linear = (x: string, name: string, bias?: string, role?: LinearRole) => weights.quantized
    ? g.quantizedMatMul(x, weights.quantized(name, ct, role), bias ? w(bias) : undefined)
    : g.o('Unsqueeze', [g.o('Gemm', [g.o('Squeeze', [x, i64([0])]), w(name), ...(bias ? [w(bias)] : [])], { transB: { int: 1 } }), i64([0])]);
  const silu = (x: string) => g.o('Mul', [x, g.o('Sigmoid', [x])]);
  const ms = 'com.microsoft';
  // Qwen3.5's RMSNorm scales by (1 + w): the operators take the scale, so add the 1 here
  // (constants only: folded once at session creation).
  const plusOne = (name: string) => g.convert(g.o('Add', [f32(name), g.constFloat([1], [])]), DT.FLOAT, ct);
  /** x · rsqrt(mean(x²) + eps) · scale over the last axis. */
  const rmsNorm = (x: string, scale: string, epsilon = t.rmsNormEps) =>
    g.o('SimplifiedLayerNormalization', [x, scale], { axis: { int: -1 }, epsilon: { float: epsilon }, stash_type: { int: 1 } });
  const { inputIds, positionIds, logitsStart } = io;

  // Embedding, with the vision tower's features written over the placeholder tokens. With
  // quantized weights the (tied) head is a MatMulNBits of its own, so nothing needs the whole
  // table in the compute type: gather the stored rows and convert only those.
  const embedName = 'model.language_model.embed_tokens.weight';
  const stored = weights.stored(embedName);
  const rows = weights.quantized
    ? g.convert(g.o('Gather', [stored.value, inputIds]), stored.elemType, ct)
    : g.o('Gather', [w(embedName), inputIds]);
  const embedded = reshape(rows, [-1, t.hiddenSize]);
  let hidden = reshape(io.visual ? g.o('ScatterND', [embedded, io.visual.index, g.convert(io.visual.embeds, DT.FLOAT, ct)]) : embedded, [1, -1, t.hiddenSize]);

  // The residual stream: each block's output is added to it by the norm that follows
  // (SkipSimplifiedLayerNormalization returns both the normed sum and the sum).
  let pending: string | undefined;
  const addThenNorm = (scaleName: string) => {
    if (pending === undefined) return rmsNorm(hidden, plusOne(scaleName));
    const [normed, , , sum] = g.op('SkipSimplifiedLayerNormalization', [pending, hidden, plusOne(scaleName)],
      { epsilon: { float: t.rmsNormEps } }, { outputs: 4, domain: ms });
    hidden = sum;
    pending = undefined;
    return normed;
  };

  // Interleaved multimodal partial rotary on packed [1, seq, heads·dim] by MRotaryEmbedding:
  // each frequency column takes the T, H or W position stream that mrope_section assigns.
  // Always the interleaved layout (1): upstream Qwen3.5 ignores mrope_interleaved.
  const rotary = Math.round(t.headDim * t.partialRotaryFactor);
  const applyRotary = (x: string, heads: number) => g.o('MRotaryEmbedding', [x, positionIds, io.rotary.cos, io.rotary.sin], {
    num_heads: { int: heads },
    rotary_embedding_dim: { int: rotary },
    mrope_section: { ints: t.mropeSection },
    mrope_layout: { int: 1 },
  }, ms);

  const seqLen = g.o('Gather', [g.o('Shape', [inputIds]), i64([1])]); // [1]

  t.layerTypes.forEach((type, layer) => {
    const p = `model.language_model.layers.${layer}`;
    const x = addThenNorm(`${p}.input_layernorm.weight`);
    if (type === 'full_attention') {
      // A K/V cache part by kind, from the cache inputs (`io.cache`) or the Loop's starting cache.
      const cached = (from: (name: string) => string, kind: 'key' | 'value'): CachedKv => (kvCache === 'int8'
        ? { values: from(`past_${kind}.${layer}`), scales: from(`past_${kind}_scale.${layer}`) }
        : from(`past_${kind}.${layer}`));
      const setPresent = (kind: 'key' | 'value', kv: CachedKv) => {
        if (typeof kv === 'string') return void present.set(`present_${kind}.${layer}`, kv);
        present.set(`present_${kind}.${layer}`, kv.values);
        present.set(`present_${kind}_scale.${layer}`, kv.scales);
      };
      const [pastKey, pastValue] = [cached(io.cache, 'key'), cached(io.cache, 'value')];
      // With attention_bias, q/k/v/o carry biases (q_proj's covers the query and its gate).
      const attn = (proj: string) => linear(x, `${p}.self_attn.${proj}.weight`, t.attentionBias ? `${p}.self_attn.${proj}.bias` : undefined);
      const qg = reshape(attn('q_proj'), [1, -1, t.numAttentionHeads, t.headDim * 2]);
      const [qRaw, gate] = g.op('Split', [qg, i64([t.headDim, t.headDim])], { axis: { int: -1 } }, { outputs: 2 });
      const packed = (x: string, heads: number) => reshape(x, [1, -1, heads * t.headDim]);
      const q = applyRotary(packed(rmsNorm(qRaw, plusOne(`${p}.self_attn.q_norm.weight`)), t.numAttentionHeads), t.numAttentionHeads);
      const kRaw = reshape(attn('k_proj'), [1, -1, t.numKeyValueHeads, t.headDim]);
      const k = applyRotary(packed(rmsNorm(kRaw, plusOne(`${p}.self_attn.k_norm.weight`)), t.numKeyValueHeads), t.numKeyValueHeads);
      const v = attn('v_proj'); // already packed [1, seq, kv_heads·dim]
      // Grouped-query attention by ONNX Runtime's GroupQueryAttention contrib operator:
      // packed inputs, the cache as [1, kv_heads, past, dim], causal over absolute positions
      // (seqlens_k = total − 1). Rotary is applied above: the operator's own rotary knows
      // one position stream, not the multimodal three.
      const shape = { heads: t.numAttentionHeads, kvHeads: t.numKeyValueHeads, headDim: t.headDim, scale: 1 / Math.sqrt(t.headDim) };
      let merged: string;
      if (io.loopStart) {
        const start = { key: cached(io.loopStart, 'key'), value: cached(io.loopStart, 'value') };
        const block = blockDecodeAttention(g, shape, q, k, v, start, { key: pastKey, value: pastValue }, ct);
        merged = block.output;
        setPresent('key', block.blockKey);
        setPresent('value', block.blockValue);
      } else {
        // The new tokens' K/V as the cache holds them; an 8-bit cache's attention reads the
        // past dequantized (prefill reads the cache once per chunk, not once per token).
        const heads = (x: string) => g.o('Transpose', [reshape(x, [1, -1, t.numKeyValueHeads, t.headDim])], { perm: { ints: [0, 2, 1, 3] } });
        const packedKv = (x: string) => reshape(g.o('Transpose', [x], { perm: { ints: [0, 2, 1, 3] } }), [1, -1, t.numKeyValueHeads * t.headDim]);
        const [newKey, newValue] = kvCache === 'float' ? [] : [asCached(g, kvCache, heads(k), ct), asCached(g, kvCache, heads(v), ct)];
        const [kSeen, vSeen] = newKey && newValue ? [packedKv(newKey.seen), packedKv(newValue.seen)] : [k, v];
        const [pastKeyF, pastValueF] = [floatKv(g, pastKey, ct), floatKv(g, pastValue, ct)];
        let keys: string, values: string;
        if (attention === 'decomposed') {
          ({ output: merged, presentKey: keys, presentValue: values } = decomposedAttention(g, shape, q, kSeen, vSeen, pastKeyF, pastValueF, ct));
        } else {
          const total = g.o('Add', [g.o('Gather', [g.o('Shape', [pastKeyF]), i64([2])]), seqLen]); // [1]
          const seqlensK = g.o('Cast', [g.o('Sub', [total, i64([1])])], { to: { int: DT.INT32 } });
          const totalLength = g.o('Squeeze', [g.o('Cast', [total], { to: { int: DT.INT32 } }), i64([0])]);
          [merged, keys, values] = g.op('GroupQueryAttention', [q, kSeen, vSeen, pastKeyF, pastValueF, seqlensK, totalLength], {
            num_heads: { int: shape.heads },
            kv_num_heads: { int: shape.kvHeads },
            scale: { float: shape.scale },
          }, { outputs: 3, domain: ms });
        }
        setPresent('key', newKey ? concatKv(g, pastKey, newKey.stored) : keys);
        setPresent('value', newValue ? concatKv(g, pastValue, newValue.stored) : values);
      }
      const gated = g.o('Mul', [merged, g.o('Sigmoid', [reshape(gate, [1, -1, t.numAttentionHeads * t.headDim])])]);
      pending = linear(gated, `${p}.self_attn.o_proj.weight`, t.attentionBias ? `${p}.self_attn.o_proj.bias` : undefined);
    } else {
      const keyDim = t.linearNumKeyHeads * t.linearKeyHeadDim;
      const valueDim = t.linearNumValueHeads * t.linearValueHeadDim;
      const convDim = keyDim * 2 + valueDim;
      const a = `${p}.linear_attn`;
      // Causal depthwise conv with SiLU over [state, new inputs] by ONNX Runtime's
      // CausalConvWithState contrib operator; the state keeps the last kernel−1 inputs.
      const qkv = transpose(linear(x, `${a}.in_proj_qkv.weight`), [0, 2, 1]); // [1, C, seq]
      const [conv, convState] = g.op('CausalConvWithState', [qkv, w(`${a}.conv1d.weight`), constant(new Float32Array(convDim), [convDim]), io.cache(`past_conv.${layer}`)],
        { activation: { string: 'silu' } }, { outputs: 2, domain: ms });
      present.set(`present_conv.${layer}`, convState);
      const [qc, kc, vc] = g.op('Split', [transpose(conv, [0, 2, 1]), i64([keyDim, keyDim, valueDim])], { axis: { int: -1 } }, { outputs: 3 });
      // Per-head L2 normalisation x · rsqrt(Σx² + 1e-6) as an RMSNorm: Σx² = d·mean(x²), so
      // it is rmsNorm with eps 1e-6/d and scale 1/√d; q's extra 1/√d makes its scale 1/d.
      const d = t.linearKeyHeadDim;
      const l2 = (v: string, scale: number) => rmsNorm(reshape(v, [-1, t.linearNumKeyHeads, d]), constant(new Float32Array(d).fill(scale), [d]), 1e-6 / d);
      const ratio = t.linearNumValueHeads / t.linearNumKeyHeads;
      const toValueHeads = (v: string) => ratio === 1 ? v : reshape(
        g.o('Expand', [g.o('Unsqueeze', [v, i64([2])]), i64([1, t.linearNumKeyHeads, ratio, d])]),
        [-1, t.linearNumValueHeads, d]);
      const q = toValueHeads(l2(qc, 1 / d));
      const k = toValueHeads(l2(kc, 1 / Math.sqrt(d)));
      const beta = g.o('Sigmoid', [linear(x, `${a}.in_proj_b.weight`)]); // [1, seq, value heads]
      // The decay g = −exp(A_log)·softplus(a + dt_bias) in float32, as the reference computes it.
      const softplus = g.o('Softplus', [g.o('Add', [g.convert(linear(x, `${a}.in_proj_a.weight`), ct, DT.FLOAT), f32(`${a}.dt_bias`)])]);
      const decay = g.convert(g.o('Mul', [g.o('Neg', [g.o('Exp', [f32(`${a}.A_log`)])]), softplus]), DT.FLOAT, ct);
      // The gated delta rule: ONNX Runtime's LinearAttention contrib operator (packed
      // [1, seq, heads·dim] inputs, state [1, heads, k, v], decay in log space). q and k
      // already carry the value-head count and the 1/√d scale, hence scale 1.
      const packed = (x: string, width: number) => reshape(x, [1, -1, width]);
      const [core, state] = g.op('LinearAttention', [
        packed(q, t.linearNumValueHeads * d), packed(k, t.linearNumValueHeads * d),
        vc, io.cache(`past_recurrent.${layer}`), decay, beta,
      ], {
        update_rule: { string: 'gated_delta' },
        q_num_heads: { int: t.linearNumValueHeads },
        kv_num_heads: { int: t.linearNumValueHeads },
        scale: { float: 1 },
      }, { outputs: 2, domain: ms });
      present.set(`present_recurrent.${layer}`, state);
      // Gated RMSNorm per value head (plain w) times silu(z). Not the GatedRMSNorm contrib
      // operator: its CPU kernel made prefill 5% (hidden 512) to 30% (hidden 64) slower than
      // this pair (docs/benchmarks.md).
      const perHead = (v: string) => reshape(v, [-1, t.linearNumValueHeads, t.linearValueHeadDim]);
      const normed = g.o('Mul', [rmsNorm(perHead(core), w(`${a}.norm.weight`)), silu(perHead(linear(x, `${a}.in_proj_z.weight`)))]);
      pending = linear(reshape(normed, [1, -1, valueDim]), `${a}.out_proj.weight`);
    }
    const mlpIn = addThenNorm(`${p}.post_attention_layernorm.weight`);
    const up = g.o('Mul', [silu(linear(mlpIn, `${p}.mlp.gate_proj.weight`)), linear(mlpIn, `${p}.mlp.up_proj.weight`)]);
    pending = linear(up, `${p}.mlp.down_proj.weight`);
  });

  const finalHidden = addThenNorm('model.language_model.norm.weight');
  const tail = g.o('Slice', [finalHidden, logitsStart, i64([2147483647]), i64([1])]);
  // With tied embeddings the head reads the same [vocab, hidden] table as the embedding.
  return { logits: g.convert(linear(tail, t.tieWordEmbeddings ? 'model.language_model.embed_tokens.weight' : 'lm_head.weight', undefined, 'head'), ct, DT.FLOAT), present };
}

/**
 * A checkpoint's tensors as graph values of `g` (initializers referencing the files, cast in
 * the graph), and its linear weights quantized into `store` when there is one, as
 * initializers of `g`. ONNX Runtime pre-packs a quantized weight (MatMulNBits' and the
 * integer GEMM's fast kernels need that) only for nodes of the weight's own graph or of a
 * direct subgraph: every node that reads them is at most one level down (buildTextModel).
 */
export function decoderWeightsOf(checkpoint: Checkpoint, g: Graph, store?: QuantizedWeights): DecoderWeights {
  const info = (name: string) => {
    const found = checkpoint.tensors.get(name);
    if (!found) throw new Error(`tensor ${name} missing`);
    return found;
  };
  return {
    value: (name, elemType) => g.weight(info(name), elemType),
    stored: (name) => ({ value: g.rawWeight(info(name)), elemType: g.storedType(info(name)) }),
    ...(store ? { quantized: (name: string, elemType: number, role?: LinearRole) => g.quantizedWeight(info(name), store, elemType, role) } : {}),
  };
}

/** What the decode loop emits for a step whose logits were not finite. */
export const NON_FINITE_TOKEN = -1;

/** The body of the decode loop: the decoder on one token, then argmax and the stop test. */
function decodeStepBody(t: TextConfig, precision: Precision, weights: DecoderWeights, rotary: DecoderInputs['rotary'], stopIds: string, attention: AttentionKind, kvCache: KvCacheKind): Graph {
  const cache = cacheSpecs(t, precision, kvCache);
  const body = Graph.body('decode_step');
  body.input('iteration', DT.INT64, []);
  body.input('condition', DT.BOOL, []);
  const token = body.input('token_in', DT.INT64, [1, 1]);
  const position = body.input('position_in', DT.INT64, [1]);
  // K/V carry only the tokens this Loop makes ('block'); the rest the cache the Loop started from.
  const blockDims = (spec: CacheSpec) => spec.dims.map((d) => (d === 'past' ? 'block' : d));
  for (const spec of cache) body.input(`${spec.input}_in`, spec.elemType, blockDims(spec));
  const positionIds = body.o('Reshape', [body.o('Expand', [position, body.constInt64([3])]), body.constInt64([3, 1, 1])]);
  const out = emitDecoder(body, t, weights, { inputIds: token, positionIds, rotary, logitsStart: body.constInt64([0]), cache: (name) => `${name}_in`, loopStart: (name) => name }, computeType(precision), attention, kvCache);
  // Non-finite logits (an fp16 overflow) end the loop with the token NON_FINITE_TOKEN, which
  // the engine turns into an error: an argmax over them would be garbage. Their sum s is
  // non-finite too, and s − s is NaN exactly then.
  const total = body.o('ReduceSum', [out.logits], { keepdims: { int: 0 } });
  const nonFinite = body.o('IsNaN', [body.o('Sub', [total, total])]);
  const next = body.o('Where', [nonFinite, body.constInt64([NON_FINITE_TOKEN], []),
    body.o('ArgMax', [out.logits], { axis: { int: -1 }, keepdims: { int: 0 } })]); // [1, 1]
  const isStop = body.o('Equal', [body.o('Reshape', [next, body.constInt64([1])]), stopIds]);
  const stop = body.o('Or', [body.o('Cast', [body.o('ReduceMax', [body.o('Cast', [isStop], { to: { int: DT.INT64 } })], { keepdims: { int: 0 } })], { to: { int: DT.BOOL } }), nonFinite]);
  body.output('condition_out', body.o('Not', [stop]), DT.BOOL, []);
  body.output('token_out', next, DT.INT64, [1, 1]);
  body.output('position_out', body.o('Add', [position, body.constInt64([1])]), DT.INT64, [1]);
  for (const spec of cache) body.output(`${spec.output}_out`, out.present.get(spec.output)!, spec.elemType, blockDims(spec));
  body.output('token_scan', body.o('Reshape', [next, body.constInt64([1])]), DT.INT64, [1]);
  return body;
}

/**
 * The text model as one graph with two modes sharing one copy of the weights:
 * - `forward` (mode = true): prefill or single steps — any number of new tokens after any
 *   cache; logits from `logits_start` on;
 * - `decode` (mode = false): up to `steps` greedy tokens in one run — an ONNX Loop whose
 *   body is the decoder on one token, stopping at a stop id — so the cache crosses the
 *   session boundary once per block of tokens. The DeltaNet states are loop-carried; the
 *   K/V cache the run starts from is read in place and only the block's own K/V are
 *   carried, appended to it once at the end (blockDecodeAttention).
 * The `If`'s forward branch and the Loop's body read the main graph's weights. Outputs: the cache, `logits`
 * (empty in decode mode) and `tokens` (empty in forward mode; its last may be a stop id).
 */
export function buildTextModel(checkpoint: Checkpoint, location: (file: string) => string, precision: Precision = 'fp32', attention: AttentionKind = 'fused', quantized?: QuantizedWeights, kvCache: KvCacheKind = 'float'): Graph {
  const t = checkpoint.config.text;
  const ct = computeType(precision);
  const g = new Graph('qwen3_5_text', location);
  const cache = cacheSpecs(t, precision, kvCache);
  const mode = g.input('forward', DT.BOOL, []);
  const io: DecoderInputs = {
    inputIds: g.input('input_ids', DT.INT64, [1, 'seq']),
    rotary: emitRotaryTables(g, t, ct),
    positionIds: g.input('position_ids', DT.INT64, [3, 1, 'seq']),
    visual: {
      embeds: g.input('visual_embeds', DT.FLOAT, ['visual', t.hiddenSize]),
      index: g.input('visual_index', DT.INT64, ['visual', 1]),
    },
    logitsStart: g.input('logits_start', DT.INT64, [1]),
    cache: (name) => name,
  };
  const token = g.input('token', DT.INT64, [1, 1]);
  const position = g.input('position', DT.INT64, [1]);
  const steps = g.input('steps', DT.INT64, []);
  const stopIds = g.input('stop_ids', DT.INT64, ['stops']);
  for (const spec of cache) g.input(spec.input, spec.elemType, spec.dims);
  const weights = decoderWeightsOf(checkpoint, g, quantized);
  const cacheDims = (spec: CacheSpec) => spec.dims.map((d) => (d === 'past' ? 'total' : d));

  const forward = Graph.body('forward');
  const out = emitDecoder(forward, t, weights, io, ct, attention, kvCache);
  for (const spec of cache) forward.output(`${spec.output}_f`, out.present.get(spec.output)!, spec.elemType, cacheDims(spec));
  forward.output('logits_f', out.logits, DT.FLOAT, [1, 'logits_seq', t.vocabSize]);
  forward.output('tokens_f', forward.constInt64([], [0]), DT.INT64, ['generated']);

  // The decode Loop sits in the main graph, beside the If rather than inside a branch: its
  // body is then a direct subgraph, and ONNX Runtime pre-packs the main graph's weights for
  // it (it does so only for a node's own graph and its parent). In forward mode `steps` is 0
  // and the Loop returns its initial values at once.
  const loopOutputs = ['next_token', 'next_position', ...cache.map((spec) => `${spec.output}_l`), 'tokens_scan'];
  // K/V enter the Loop empty (the body reads the cache it starts from in place) and leave it
  // as the block of tokens it made, appended once per run instead of copied once per token.
  const isKv = (spec: CacheSpec) => spec.dims.includes('past'); // K/V, and an 8-bit cache's scales
  const emptyBlock = (spec: CacheSpec) => g.o('Slice', [spec.input, g.constInt64([0]), g.constInt64([0]), g.constInt64([2])]);
  g.op('Loop', [steps, g.constBool(true), token, position, ...cache.map((spec) => (isKv(spec) ? emptyBlock(spec) : spec.input))],
    { body: { graph: decodeStepBody(t, precision, weights, io.rotary, stopIds, attention, kvCache).toGraphProto() } }, { outputs: loopOutputs });
  const decode = Graph.body('decode');
  for (const spec of cache) {
    const present = isKv(spec) ? decode.o('Concat', [spec.input, `${spec.output}_l`], { axis: { int: 2 } }) : `${spec.output}_l`;
    decode.output(`${spec.output}_d`, present, spec.elemType, cacheDims(spec));
  }
  decode.output('logits_d', decode.o('ConstantOfShape', [decode.constInt64([1, 0, t.vocabSize])]), DT.FLOAT, [1, 'logits_seq', t.vocabSize]);
  decode.output('tokens_d', decode.o('Reshape', ['tokens_scan', decode.constInt64([-1])]), DT.INT64, ['generated']);

  const outputs = [...cache.map((spec) => spec.output), 'logits', 'tokens'];
  g.op('If', [mode], { then_branch: { graph: forward.toGraphProto() }, else_branch: { graph: decode.toGraphProto() } }, { outputs: outputs.map((name) => `${name}_if`) });
  for (const spec of cache) g.output(spec.output, `${spec.output}_if`, spec.elemType, cacheDims(spec));
  g.output('logits', 'logits_if', DT.FLOAT, [1, 'logits_seq', t.vocabSize]);
  g.output('tokens', 'tokens_if', DT.INT64, ['generated']);
  return g;
}
