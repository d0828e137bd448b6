/**
 * The Qwen3.5 text decoder as one ONNX graph, built from config.json: embedding (with
 * visual features scattered over the placeholder positions), the hybrid stack following
 * layer_types — Gated DeltaNet layers (causal depthwise conv + gated delta rule) and gated
 * full attention with interleaved multimodal partial rotary — (1 + w) RMSNorms, SwiGLU MLPs
 * and the (tied) LM head. The cache crosses the graph boundary explicitly: K/V per full
 * attention layer, conv and recurrent state per DeltaNet layer. All arithmetic in float32
 * (weights are cast from bf16 inside the graph). Standard ONNX operators, and ONNX Runtime's
 * LinearAttention contrib operator for the gated delta rule.
 */
import type { Checkpoint } from './checkpoint';
import type { TextConfig } from './config';
import { type Dim, DT, Graph } from './onnxGraph';

export interface CacheSpec {
  layer: number;
  kind: 'key' | 'value' | 'conv' | 'recurrent';
  input: string;
  output: string;
  /** Shape with 'past' for the growing dimension of K/V. */
  dims: Dim[];
}

/** The cache tensors of the decoder, in a fixed order. */
export function cacheSpecs(t: TextConfig): CacheSpec[] {
  const specs: CacheSpec[] = [];
  const convDim = t.linearNumKeyHeads * t.linearKeyHeadDim * 2 + t.linearNumValueHeads * t.linearValueHeadDim;
  t.layerTypes.forEach((type, layer) => {
    if (type === 'full_attention') {
      for (const kind of ['key', 'value'] as const) {
        specs.push({ layer, kind, input: `past_${kind}.${layer}`, output: `present_${kind}.${layer}`, dims: [1, t.numKeyValueHeads, 'past', t.headDim] });
      }
    } else {
      specs.push({ layer, kind: 'conv', input: `past_conv.${layer}`, output: `present_conv.${layer}`, dims: [1, convDim, t.linearConvKernel - 1] });
      specs.push({ layer, kind: 'recurrent', input: `past_recurrent.${layer}`, output: `present_recurrent.${layer}`, dims: [1, t.linearNumValueHeads, t.linearKeyHeadDim, t.linearValueHeadDim] });
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

/** For each rotary frequency, which position stream (0 = T, 1 = H, 2 = W) drives it (interleaved mRoPE). */
export function mropeStreams(t: TextConfig): number[] {
  const half = Math.round(t.headDim * t.partialRotaryFactor) / 2;
  return Array.from({ length: half }, (_, j) => {
    if (j % 3 === 1 && j < t.mropeSection[1] * 3) return 1;
    if (j % 3 === 2 && j < t.mropeSection[2] * 3) return 2;
    return 0;
  });
}

/** The values the decoder reads; the graph or loop body that hosts it provides them. */
export interface DecoderInputs {
  inputIds: string;
  positionIds: string;
  /** Vision features [n, hidden] and their token indices [n, 1]; absent in decode-only bodies. */
  visual?: { embeds: string; index: string };
  /** Logits from this position on ([1] int64). */
  logitsStart: string;
  /** The value holding each cache input (by its graph input name, e.g. `past_key.3`). */
  cache: (inputName: string) => string;
}

export interface DecoderOutputs {
  logits: string;
  /** Present cache values by output name (e.g. `present_key.3`). */
  present: Map<string, string>;
}

/**
 * Emits the decoder's nodes into `g` (a model graph or a Loop body). `weight` gives the
 * float32 value of a checkpoint tensor; in a Loop body it refers to the outer graph's.
 */
export function emitDecoder(g: Graph, t: TextConfig, weight: (name: string) => string, io: DecoderInputs): DecoderOutputs {
  const w = weight;
  const present = new Map<string, string>();
  const i64 = (values: number[]) => g.constInt64(values);
  const scalar = (value: number) => g.constFloat([value], []);
  const reshape = (x: string, dims: number[]) => g.o('Reshape', [x, i64(dims)]);
  const transpose = (x: string, perm: number[]) => g.o('Transpose', [x], { perm: { ints: perm } });
  const linear = (x: string, name: string) => g.o('MatMul', [x, transpose(w(name), [1, 0])]);
  const silu = (x: string) => g.o('Mul', [x, g.o('Sigmoid', [x])]);
  const rmsNorm = (x: string, weight: string, plusOne: boolean) => {
    const meanSquare = g.o('ReduceMean', [g.o('Mul', [x, x]), i64([-1])], { keepdims: { int: 1 } });
    const normed = g.o('Mul', [x, g.o('Reciprocal', [g.o('Sqrt', [g.o('Add', [meanSquare, scalar(t.rmsNormEps)])])])]);
    return g.o('Mul', [normed, plusOne ? g.o('Add', [weight, scalar(1)]) : weight]);
  };
  const sliceLast = (x: string, start: number, end: number) => g.o('Slice', [x, i64([start]), i64([end]), i64([-1])]);
  const { inputIds, positionIds, logitsStart } = io;

  // Embedding, with the vision tower's features written over the placeholder tokens.
  const embedTable = w('model.language_model.embed_tokens.weight');
  const embedded = reshape(g.o('Gather', [embedTable, inputIds]), [-1, t.hiddenSize]);
  let hidden = reshape(io.visual ? g.o('ScatterND', [embedded, io.visual.index, io.visual.embeds]) : embedded, [1, -1, t.hiddenSize]);

  // Interleaved multimodal rotary: cos/sin [seq, rotary] shared by every attention layer.
  const rotary = Math.round(t.headDim * t.partialRotaryFactor);
  const invFreq = g.constFloat(rotaryInvFreq(t), [1, 1, 1, rotary / 2]);
  const streams = mropeStreams(t);
  const select = g.constFloat([0, 1, 2].flatMap((s) => streams.map((x) => (x === s ? 1 : 0))), [3, 1, 1, rotary / 2]);
  const positions = g.o('Unsqueeze', [g.o('Cast', [positionIds], { to: { int: DT.FLOAT } }), i64([-1])]); // [3,1,seq,1]
  const freqs = g.o('ReduceSum', [g.o('Mul', [g.o('Mul', [positions, invFreq]), select]), i64([0])], { keepdims: { int: 0 } }); // [1,seq,half]
  const emb = g.o('Concat', [freqs, freqs], { axis: { int: -1 } });
  const cos = g.o('Unsqueeze', [g.o('Cos', [emb]), i64([1])]); // [1,1,seq,rotary]
  const sin = g.o('Unsqueeze', [g.o('Sin', [emb]), i64([1])]);
  const applyRotary = (x: string) => { // x: [1, heads, seq, headDim]
    const rot = sliceLast(x, 0, rotary);
    const pass = sliceLast(x, rotary, t.headDim);
    const x1 = sliceLast(rot, 0, rotary / 2);
    const x2 = sliceLast(rot, rotary / 2, rotary);
    const rotated = g.o('Concat', [g.o('Neg', [x2]), x1], { axis: { int: -1 } });
    const embedded = g.o('Add', [g.o('Mul', [rot, cos]), g.o('Mul', [rotated, sin])]);
    return g.o('Concat', [embedded, pass], { axis: { int: -1 } });
  };

  const seqLen = g.o('Gather', [g.o('Shape', [inputIds]), i64([1])]); // [1]

  t.layerTypes.forEach((type, layer) => {
    const p = `model.language_model.layers.${layer}`;
    const residual = hidden;
    const x = rmsNorm(hidden, w(`${p}.input_layernorm.weight`), true);
    let mixed: string;
    if (type === 'full_attention') {
      const [pastKey, pastValue] = [io.cache(`past_key.${layer}`), io.cache(`past_value.${layer}`)];
      const qg = reshape(linear(x, `${p}.self_attn.q_proj.weight`), [1, -1, t.numAttentionHeads, t.headDim * 2]);
      const [qRaw, gate] = g.op('Split', [qg, i64([t.headDim, t.headDim])], { axis: { int: -1 } }, { outputs: 2 });
      const q = applyRotary(transpose(rmsNorm(qRaw, w(`${p}.self_attn.q_norm.weight`), true), [0, 2, 1, 3]));
      const kRaw = reshape(linear(x, `${p}.self_attn.k_proj.weight`), [1, -1, t.numKeyValueHeads, t.headDim]);
      const k = applyRotary(transpose(rmsNorm(kRaw, w(`${p}.self_attn.k_norm.weight`), true), [0, 2, 1, 3]));
      const v = transpose(reshape(linear(x, `${p}.self_attn.v_proj.weight`), [1, -1, t.numKeyValueHeads, t.headDim]), [0, 2, 1, 3]);
      // Grouped-query attention by ONNX Runtime's GroupQueryAttention contrib operator (CPU
      // kernel): packed [1, seq, heads·dim] inputs, the cache as [1, kv_heads, past, dim],
      // causal over absolute positions (seqlens_k = total − 1). Rotary is applied above
      // (the interleaved multimodal kind, which the operator's own rotary does not know).
      const pack = (x: string, heads: number) => reshape(transpose(x, [0, 2, 1, 3]), [1, -1, heads * t.headDim]);
      const total = g.o('Add', [g.o('Gather', [g.o('Shape', [pastKey]), i64([2])]), seqLen]); // [1]
      const seqlensK = g.o('Cast', [g.o('Sub', [total, i64([1])])], { to: { int: DT.INT32 } });
      const totalLength = g.o('Squeeze', [g.o('Cast', [total], { to: { int: DT.INT32 } }), i64([0])]);
      const [merged, keys, values] = g.op('GroupQueryAttention', [pack(q, t.numAttentionHeads), pack(k, t.numKeyValueHeads), pack(v, t.numKeyValueHeads), pastKey, pastValue, seqlensK, totalLength], {
        num_heads: { int: t.numAttentionHeads },
        kv_num_heads: { int: t.numKeyValueHeads },
        scale: { float: 1 / Math.sqrt(t.headDim) },
      }, { outputs: 3, domain: 'com.microsoft' });
      present.set(`present_key.${layer}`, keys);
      present.set(`present_value.${layer}`, values);
      const gated = g.o('Mul', [merged, g.o('Sigmoid', [reshape(gate, [1, -1, t.numAttentionHeads * t.headDim])])]);
      mixed = linear(gated, `${p}.self_attn.o_proj.weight`);
    } else {
      const keyDim = t.linearNumKeyHeads * t.linearKeyHeadDim;
      const valueDim = t.linearNumValueHeads * t.linearValueHeadDim;
      const convDim = keyDim * 2 + valueDim;
      const a = `${p}.linear_attn`;
      // Causal depthwise conv with SiLU over [state, new inputs] by ONNX Runtime's
      // CausalConvWithState contrib operator; the state keeps the last kernel−1 inputs.
      const qkv = transpose(linear(x, `${a}.in_proj_qkv.weight`), [0, 2, 1]); // [1, C, seq]
      const [conv, convState] = g.op('CausalConvWithState', [qkv, w(`${a}.conv1d.weight`), g.constFloat(new Float32Array(convDim), [convDim]), io.cache(`past_conv.${layer}`)],
        { activation: { string: 'silu' } }, { outputs: 2, domain: 'com.microsoft' });
      present.set(`present_conv.${layer}`, convState);
      const [qc, kc, vc] = g.op('Split', [transpose(conv, [0, 2, 1]), i64([keyDim, keyDim, valueDim])], { axis: { int: -1 } }, { outputs: 3 });
      const l2 = (v: string) => g.o('Mul', [v, g.o('Reciprocal', [g.o('Sqrt', [g.o('Add', [g.o('ReduceSum', [g.o('Mul', [v, v]), i64([-1])], { keepdims: { int: 1 } }), scalar(1e-6)])])])]);
      const heads = (v: string, n: number, d: number) => reshape(v, [-1, n, d]); // [seq, heads, dim]
      const ratio = t.linearNumValueHeads / t.linearNumKeyHeads;
      const toValueHeads = (v: string) => ratio === 1 ? v : reshape(
        g.o('Expand', [g.o('Unsqueeze', [v, i64([2])]), i64([1, t.linearNumKeyHeads, ratio, t.linearKeyHeadDim])]),
        [-1, t.linearNumValueHeads, t.linearKeyHeadDim]);
      const q = toValueHeads(g.o('Mul', [l2(heads(qc, t.linearNumKeyHeads, t.linearKeyHeadDim)), scalar(1 / Math.sqrt(t.linearKeyHeadDim))]));
      const k = toValueHeads(l2(heads(kc, t.linearNumKeyHeads, t.linearKeyHeadDim)));
      const v = heads(vc, t.linearNumValueHeads, t.linearValueHeadDim);
      const beta = reshape(g.o('Sigmoid', [linear(x, `${a}.in_proj_b.weight`)]), [-1, t.linearNumValueHeads]);
      const softplus = g.o('Softplus', [g.o('Add', [linear(x, `${a}.in_proj_a.weight`), w(`${a}.dt_bias`)])]);
      const decay = reshape(g.o('Mul', [g.o('Neg', [g.o('Exp', [w(`${a}.A_log`)])]), softplus]), [-1, t.linearNumValueHeads]);
      // The gated delta rule: ONNX Runtime's LinearAttention contrib operator (CPU kernel;
      // packed [1, seq, heads·dim] inputs, state [1, heads, k, v], decay in log space).
      // q and k already carry the value-head count and the 1/√d scale, hence scale 1.
      const packed = (x: string, width: number) => reshape(x, [1, -1, width]);
      const [coreOut, state] = g.op('LinearAttention', [
        packed(q, t.linearNumValueHeads * t.linearKeyHeadDim), packed(k, t.linearNumValueHeads * t.linearKeyHeadDim),
        packed(v, valueDim), io.cache(`past_recurrent.${layer}`), packed(decay, t.linearNumValueHeads), packed(beta, t.linearNumValueHeads),
      ], {
        update_rule: { string: 'gated_delta' },
        q_num_heads: { int: t.linearNumValueHeads },
        kv_num_heads: { int: t.linearNumValueHeads },
        scale: { float: 1 },
      }, { outputs: 2, domain: 'com.microsoft' });
      present.set(`present_recurrent.${layer}`, state);
      const core = reshape(coreOut, [-1, t.linearNumValueHeads, t.linearValueHeadDim]);
      // Gated RMSNorm per head (plain w), times silu(z).
      const z = reshape(linear(x, `${a}.in_proj_z.weight`), [-1, t.linearNumValueHeads, t.linearValueHeadDim]);
      const normed = g.o('Mul', [rmsNorm(core, w(`${a}.norm.weight`), false), silu(z)]);
      mixed = linear(reshape(normed, [1, -1, valueDim]), `${a}.out_proj.weight`);
    }
    hidden = g.o('Add', [residual, mixed]);
    const mlpIn = rmsNorm(hidden, w(`${p}.post_attention_layernorm.weight`), true);
    const up = g.o('Mul', [silu(linear(mlpIn, `${p}.mlp.gate_proj.weight`)), linear(mlpIn, `${p}.mlp.up_proj.weight`)]);
    hidden = g.o('Add', [hidden, linear(up, `${p}.mlp.down_proj.weight`)]);
  });

  const finalHidden = rmsNorm(hidden, w('model.language_model.norm.weight'), true);
  const tail = g.o('Slice', [finalHidden, logitsStart, i64([2147483647]), i64([1])]);
  const head = t.tieWordEmbeddings ? embedTable : w('lm_head.weight');
  return { logits: g.o('MatMul', [tail, transpose(head, [1, 0])]), present };
}

/** A checkpoint's tensors as float32 graph values (initializers referencing the files). */
function weightsOf(checkpoint: Checkpoint, g: Graph): (name: string) => string {
  return (name: string) => {
    const info = checkpoint.tensors.get(name);
    if (!info) throw new Error(`tensor ${name} missing`);
    return g.weight(info);
  };
}

/** The body of the decode loop: the decoder on one token, then argmax and the stop test. */
function decodeStepBody(t: TextConfig, weights: (name: string) => string, stopIds: string): Graph {
  const cache = cacheSpecs(t);
  const body = Graph.body('decode_step');
  body.input('iteration', DT.INT64, []);
  body.input('condition', DT.BOOL, []);
  const token = body.input('token_in', DT.INT64, [1, 1]);
  const position = body.input('position_in', DT.INT64, [1]);
  for (const spec of cache) body.input(`${spec.input}_in`, DT.FLOAT, spec.dims);
  const positionIds = body.o('Reshape', [body.o('Expand', [position, body.constInt64([3])]), body.constInt64([3, 1, 1])]);
  const out = emitDecoder(body, t, weights, { inputIds: token, positionIds, logitsStart: body.constInt64([0]), cache: (name) => `${name}_in` });
  const next = body.o('ArgMax', [out.logits], { axis: { int: -1 }, keepdims: { int: 0 } }); // [1, 1]
  const isStop = body.o('Equal', [body.o('Reshape', [next, body.constInt64([1])]), stopIds]);
  const stop = body.o('ReduceMax', [body.o('Cast', [isStop], { to: { int: DT.INT64 } })], { keepdims: { int: 0 } });
  body.output('condition_out', body.o('Not', [body.o('Cast', [stop], { to: { int: DT.BOOL } })]), DT.BOOL, []);
  body.output('token_out', next, DT.INT64, [1, 1]);
  body.output('position_out', body.o('Add', [position, body.constInt64([1])]), DT.INT64, [1]);
  for (const spec of cache) body.output(`${spec.output}_out`, out.present.get(spec.output)!, DT.FLOAT, spec.dims.map((d) => (d === 'past' ? 'total' : d)));
  body.output('token_scan', body.o('Reshape', [next, body.constInt64([1])]), DT.INT64, [1]);
  return body;
}

/**
 * The text model as one graph with two modes sharing one copy of the weights:
 * - `forward` (mode = true): prefill or single steps — any number of new tokens after any
 *   cache; logits from `logits_start` on;
 * - `decode` (mode = false): up to `steps` greedy tokens in one run — an ONNX Loop whose
 *   body is the decoder on one token, with the whole cache as loop-carried state, stopping
 *   at a stop id — so the cache crosses the session boundary once per block of tokens.
 * Both branches of the `If` read the outer graph's weights. Outputs: the cache, `logits`
 * (empty in decode mode) and `tokens` (empty in forward mode; its last may be a stop id).
 */
export function buildTextModel(checkpoint: Checkpoint, location: (file: string) => string): Graph {
  const t = checkpoint.config.text;
  const g = new Graph('qwen3_5_text', location);
  const cache = cacheSpecs(t);
  const mode = g.input('forward', DT.BOOL, []);
  const io: DecoderInputs = {
    inputIds: g.input('input_ids', DT.INT64, [1, 'seq']),
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
  for (const spec of cache) g.input(spec.input, DT.FLOAT, spec.dims);
  const weights = weightsOf(checkpoint, g);
  const cacheDims = (spec: CacheSpec) => spec.dims.map((d) => (d === 'past' ? 'total' : d));

  const forward = Graph.body('forward');
  const out = emitDecoder(forward, t, weights, io);
  for (const spec of cache) forward.output(`${spec.output}_f`, out.present.get(spec.output)!, DT.FLOAT, cacheDims(spec));
  forward.output('logits_f', out.logits, DT.FLOAT, [1, 'logits_seq', t.vocabSize]);
  forward.output('tokens_f', forward.constInt64([], [0]), DT.INT64, ['generated']);

  const decode = Graph.body('decode');
  const loopOutputs = ['next_token', 'next_position', ...cache.map((spec) => `${spec.output}_l`), 'tokens_scan'];
  decode.op('Loop', [steps, decode.constBool(true), token, position, ...cache.map((spec) => spec.input)],
    { body: { graph: decodeStepBody(t, weights, stopIds).toGraphProto() } }, { outputs: loopOutputs });
  for (const spec of cache) decode.output(`${spec.output}_d`, `${spec.output}_l`, DT.FLOAT, cacheDims(spec));
  decode.output('logits_d', decode.o('ConstantOfShape', [decode.constInt64([1, 0, t.vocabSize])]), DT.FLOAT, [1, 'logits_seq', t.vocabSize]);
  decode.output('tokens_d', decode.o('Reshape', ['tokens_scan', decode.constInt64([-1])]), DT.INT64, ['generated']);

  const outputs = [...cache.map((spec) => spec.output), 'logits', 'tokens'];
  g.op('If', [mode], { then_branch: { graph: forward.toGraphProto() }, else_branch: { graph: decode.toGraphProto() } }, { outputs: outputs.map((name) => `${name}_if`) });
  for (const spec of cache) g.output(spec.output, `${spec.output}_if`, DT.FLOAT, cacheDims(spec));
  g.output('logits', 'logits_if', DT.FLOAT, [1, 'logits_seq', t.vocabSize]);
  g.output('tokens', 'tokens_if', DT.INT64, ['generated']);
  return g;
}
