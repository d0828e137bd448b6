/** The ONNX Runtime engine on the tiny checkpoint, on CPU. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { checkModel } from '../../server/src/model/runtime/check';
import { argmax, CancelledError, TextEngine, textPositions } from '../../server/src/model/runtime/engine';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { maxDifference, videoLikePositions } from '../helpers/referenceModel';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let tiny: string;
let cacheDir: string;
let engine: TextEngine;
let prompt: number[];

before(async () => {
  const made = await tempTinyCheckpoint('vscan-engine-', 7);
  tiny = made.tiny;
  cacheDir = join(made.dir, 'onnx-cache');
  engine = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir });
  prompt = engine.tokenizer.encode(await engine.tokenizer.renderChat([{ role: 'user', content: 'Find the event: the dog stops.' }]));
});

test('incremental decoding reproduces a full recomputation (model check)', async () => {
  const report = await checkModel(tiny, { executionProvider: 'cpu', cacheDir, steps: 12 });
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.ok(report.maxAbsLogitDiff < 1e-4);
  assert.equal(report.tokensMatch, true);
  assert.equal(report.loopMatches, true);
  assert.equal(report.executionProvider, 'cpu');
});

test('weights are referenced in place: the graph sits beside hard links, not copies; loading reports its stages', async () => {
  assert.equal(engine.report.weightFiles, 'hard-linked');
  assert.ok(engine.report.modelFile?.startsWith(cacheDir));
  const stages: string[] = [];
  await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, onLoadProgress: (stage) => stages.push(stage) });
  assert.deepEqual(stages, ['checkpoint', 'graph', 'weights', 'session']);
});

test('a prompt split over two runs gives the same logits as one run', async () => {
  const V = engine.vocabSize;
  const whole = await engine.forward(prompt, textPositions(0, prompt.length), engine.emptyCache(), prompt.length - 1);
  const cut = 5;
  const first = await engine.forward(prompt.slice(0, cut), textPositions(0, cut), engine.emptyCache(), cut - 1);
  const second = await engine.forward(prompt.slice(cut), textPositions(cut, prompt.length - cut), first.cache, prompt.length - cut - 1);
  let diff = 0;
  for (let j = 0; j < V; j++) diff = Math.max(diff, Math.abs(whole.logits[j] - second.logits[j]));
  assert.ok(diff < 1e-4, String(diff));
});

test('greedy generation is deterministic; sampling is reproducible with a seed', async () => {
  const a = await engine.generate(prompt, { maxNewTokens: 10 });
  const b = await engine.generate(prompt, { maxNewTokens: 10 });
  assert.deepEqual(a.ids, b.ids);
  assert.equal(a.ids.length, 10);
  const s1 = await engine.generate(prompt, { maxNewTokens: 10, doSample: true, temperature: 1.5, topP: 0.95, seed: 42 });
  const s2 = await engine.generate(prompt, { maxNewTokens: 10, doSample: true, temperature: 1.5, topP: 0.95, seed: 42 });
  const s3 = await engine.generate(prompt, { maxNewTokens: 10, doSample: true, temperature: 1.5, topP: 0.95, seed: 43 });
  assert.deepEqual(s1.ids, s2.ids);
  assert.notDeepEqual(s1.ids, s3.ids);
});

test('stops at a stop id from generation_config.json; streams tokens; cancels between steps', async () => {
  const first = argmax((await engine.forward(prompt, textPositions(0, prompt.length), engine.emptyCache(), prompt.length - 1)).logits);
  const file = join(tiny, 'generation_config.json');
  const original = await readFile(file, 'utf8');
  await writeFile(file, JSON.stringify({ eos_token_id: [first] }));
  try {
    const stopping = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir });
    const result = await stopping.generate(prompt, { maxNewTokens: 5 });
    assert.deepEqual([result.ids, result.stopReason], [[], 'stop-token']);
  } finally {
    await writeFile(file, original);
  }
  const streamed: number[] = [];
  const result = await engine.generate(prompt, { maxNewTokens: 4, onToken: (id) => streamed.push(id) });
  assert.deepEqual(streamed, result.ids);
  const controller = new AbortController();
  await assert.rejects(engine.generate(prompt, { maxNewTokens: 50, onToken: () => controller.abort(), signal: controller.signal }), CancelledError);
});

test('the ONNX graph computes what the Hugging Face modeling code computes (float64 reference)', async () => {
  const { loadWeights, referenceForward } = await import('../helpers/referenceModel');
  const weights = await loadWeights(engine.checkpoint);
  const ids = prompt.slice(0, 12);
  const positions = videoLikePositions(ids.length);
  const reference = referenceForward(engine.checkpoint, weights, ids, positions);
  const ours = await engine.forward(ids, positions, engine.emptyCache(), 0);
  const diff = maxDifference(reference, ours.logits);
  assert.ok(diff < 1e-3, `max |Δlogit| ${diff}`);
  console.log(`# reference check: max |Δlogit| ${diff.toExponential(2)} over ${reference.length} positions`);
});

test('the 8-bit K/V cache: uint8 values and float32 scales per head and token cross the session; cached decoding and the Loop agree with recomputation; logits near the float64 reference', async () => {
  const { checkTolerance, INT8_KV_CHECK_TOLERANCE } = await import('../../server/src/model/runtime/check');
  const report = await checkModel(tiny, { executionProvider: 'cpu', cacheDir, steps: 12, kvCache: 'int8' });
  assert.equal(report.target.kvCache, 'int8');
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.tolerance, INT8_KV_CHECK_TOLERANCE);
  assert.equal(report.loopMatches, true);
  assert.equal(checkTolerance({ precision: 'fp32', target: { attention: 'fused', int8: 'integer-gemm', kvCache: 'float' } }), 1e-4);
  const int8 = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, kvCache: 'int8' });
  const ids = prompt.slice(0, 12);
  const positions = videoLikePositions(ids.length);
  const ours = await int8.forward(ids, positions, int8.emptyCache(), 0);
  const t = int8.checkpoint.config.text;
  const layer = t.layerTypes.indexOf('full_attention');
  const [key, scales] = [ours.cache.get(`past_key.${layer}`)!, ours.cache.get(`past_key_scale.${layer}`)!];
  assert.equal(key.type, 'uint8');
  assert.deepEqual(key.dims, [1, t.numKeyValueHeads, ids.length, t.headDim]);
  assert.equal(scales.type, 'float32');
  assert.deepEqual(scales.dims, [1, t.numKeyValueHeads, ids.length, 1]);
  // Measured 6.0×10⁻³ (the float cache: ~1×10⁻⁵): the K/V's 8 bits, not a misread cache (which moves the logits by whole units).
  const { loadWeights, referenceForward } = await import('../helpers/referenceModel');
  const reference = referenceForward(engine.checkpoint, await loadWeights(engine.checkpoint), ids, positions);
  const diff = maxDifference(reference, ours.logits);
  assert.ok(diff < 3e-2, `max |Δlogit| ${diff}`);
  const float = await engine.forward(ids, positions, engine.emptyCache(), 0);
  assert.ok(maxDifference(reference, float.logits) < diff, 'the 8-bit cache is in use (its logits differ from the float cache\'s)');
  console.log(`# 8-bit K/V cache: max |Δlogit| ${diff.toExponential(2)} against the float64 reference over ${reference.length} positions`);
  // Generation with the Loop (the default) and one run per token: the same tokens.
  const looped = await int8.generate(prompt, { maxNewTokens: 11 });
  const single = await int8.generate(prompt, { maxNewTokens: 11, loopSteps: 1 });
  assert.deepEqual(looped.ids, single.ids);
});

test('a prompt prefilled in chunks gives the same next-token logits as one run', async () => {
  const V = engine.vocabSize;
  const whole = await engine.forward(prompt, textPositions(0, prompt.length), engine.emptyCache(), prompt.length - 1);
  const chunked = await engine.prefill(prompt, textPositions(0, prompt.length), undefined, 4);
  let diff = 0;
  for (let j = 0; j < V; j++) diff = Math.max(diff, Math.abs(whole.logits[j] - chunked.logits[j]));
  assert.ok(diff < 1e-4, String(diff));
});

test('the K-step decode loop gives the same tokens as one run per token, and stops at stop ids', async () => {
  const perToken = await engine.generate(prompt, { maxNewTokens: 11, loopSteps: 1 });
  for (const loopSteps of [2, 4, 16]) {
    const looped = await engine.generate(prompt, { maxNewTokens: 11, loopSteps });
    assert.deepEqual(looped.ids, perToken.ids, `loopSteps ${loopSteps}`);
  }
  // Make the 6th greedy token a stop id: both paths stop after 5 tokens.
  const stopAt = perToken.ids[5];
  const firstIndex = perToken.ids.indexOf(stopAt);
  const saved = [...engine.stopIds];
  (engine.stopIds as number[]).splice(0, engine.stopIds.length, stopAt);
  try {
    const a = await engine.generate(prompt, { maxNewTokens: 11, loopSteps: 1 });
    const b = await engine.generate(prompt, { maxNewTokens: 11, loopSteps: 4 });
    assert.deepEqual(b.ids, a.ids);
    assert.equal(a.ids.length, firstIndex);
    assert.deepEqual([a.stopReason, b.stopReason], ['stop-token', 'stop-token']);
  } finally {
    (engine.stopIds as number[]).splice(0, engine.stopIds.length, ...saved);
  }
});

test('a position beyond max_position_embeddings fails with a clear error, in either mode', async () => {
  const limit = engine.checkpoint.config.text.maxPositionEmbeddings;
  const message = new RegExp(`${tiny.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: position ${limit} is beyond the ${limit} positions`);
  await assert.rejects(engine.forward([prompt[0]], textPositions(limit, 1), engine.emptyCache(), 0), message);
  // The decode loop would reach the limit on its third step.
  await assert.rejects(engine.decodeBlock(prompt[0], limit - 2, engine.emptyCache(), 3), message);
  // The last position inside the table still runs.
  const last = await engine.forward([prompt[0]], textPositions(limit - 1, 1), engine.emptyCache(), 0);
  assert.equal(last.rows, 1);
});

test('the fp16 graph (CUDA\'s default) computes what the float32 one does, to half precision; its cache is float16 but the recurrent state', async () => {
  const half = await TextEngine.load(tiny, { executionProvider: 'cpu', cacheDir, precision: 'fp16' });
  assert.equal(half.report.precision, 'fp16');
  const types = new Map([...half.emptyCache()].map(([name, tensor]) => [name.split('.')[0], tensor.type]));
  assert.deepEqual(Object.fromEntries(types), { past_key: 'float16', past_value: 'float16', past_conv: 'float16', past_recurrent: 'float32' });
  const ids = prompt.slice(0, 16);
  const positions = videoLikePositions(ids.length);
  const a = await engine.forward(ids, positions, engine.emptyCache(), 0);
  const b = await half.forward(ids, positions, half.emptyCache(), 0);
  assert.ok(b.logits instanceof Float32Array);
  // Rounding to 11 significant bits at every operator moves the logits, but every row still
  // points the same way: a wrong cast or a mis-typed input would not.
  const V = engine.vocabSize;
  for (let r = 0; r < ids.length; r++) {
    const x = a.logits.subarray(r * V, (r + 1) * V);
    const y = b.logits.subarray(r * V, (r + 1) * V);
    let dot = 0, xx = 0, yy = 0;
    for (let j = 0; j < V; j++) { dot += x[j] * y[j]; xx += x[j] * x[j]; yy += y[j] * y[j]; }
    assert.ok(dot / Math.sqrt(xx * yy) > 0.995, `row ${r}: cosine ${dot / Math.sqrt(xx * yy)}`);
  }
  // The float16 cache round-trips through the session: the decode loop matches one run per token.
  const perToken = await half.generate(prompt, { maxNewTokens: 8, loopSteps: 1 });
  const looped = await half.generate(prompt, { maxNewTokens: 8, loopSteps: 4 });
  assert.deepEqual(looped.ids, perToken.ids);
});

test('auto picks CUDA at fp16 where it loads, else WebGPU on a hardware adapter, else CPU at fp32, with the reasons in one line', async () => {
  const auto = await TextEngine.load(tiny, { executionProvider: 'auto', cacheDir });
  if (auto.report.executionProvider === 'cuda') {
    assert.equal(auto.report.precision, 'fp16');
  } else if (auto.report.executionProvider === 'webgpu') {
    assert.equal(auto.report.adapter?.software, false);
    assert.match(auto.report.fallbackReason ?? '', /^CUDA unavailable \(.+\); using WebGPU$/);
  } else {
    assert.equal(auto.report.precision, 'fp32');
    assert.match(auto.report.fallbackReason ?? '', /^CUDA unavailable \(.+\); WebGPU unavailable \(.+\); using CPU$/);
    assert.ok(!auto.report.fallbackReason!.includes('\n'));
  }
});

test('each weight reaches its operators as the one folded cast: no Transpose or Reshape of a weight in any subgraph', async () => {
  const { buildTextModel } = await import('../../server/src/model/graph/textDecoder');
  const graph = buildTextModel(engine.checkpoint, (file) => file).toGraphProto();
  const nodes: { opType?: string | null; input?: string[] | null; output?: string[] | null }[] = [];
  const walk = (g: typeof graph) => {
    for (const node of g.node ?? []) {
      nodes.push(node);
      for (const attribute of node.attribute ?? []) if (attribute.g) walk(attribute.g);
    }
  };
  walk(graph);
  // Values that hold weights: the initializers pointing into the safetensors file and their casts.
  const weights = new Set((graph.initializer ?? []).map((i) => i.name!).filter((name) => name.startsWith('w:')));
  for (const node of nodes) if (node.opType === 'Cast' && weights.has(node.input![0])) weights.add(node.output![0]);
  const reshaped = nodes.filter((node) => (node.opType === 'Transpose' || node.opType === 'Reshape') && weights.has(node.input![0]));
  assert.deepEqual(reshaped.map((node) => `${node.opType}(${node.input![0]})`), []);
  // And every linear layer reads its weight as stored, through Gemm's transB.
  const gemms = nodes.filter((node) => node.opType === 'Gemm');
  assert.ok(gemms.length > 0 && gemms.every((node) => weights.has(node.input![1])));
});

test('logits that overflow float16 stop the run with the remedy; float32 runs the same weights', async () => {
  // The final norm scaled far beyond float16's range (65,504) but well inside float32's.
  const dir = join(cacheDir, '..', 'overflow');
  await writeTinyCheckpoint(dir, { seed: 7 });
  const probe = await TextEngine.load(dir, { executionProvider: 'cpu', cacheDir });
  const norm = probe.checkpoint.tensors.get('model.language_model.norm.weight')!;
  const { open } = await import('node:fs/promises');
  const { toBfloat16 } = await import('../../server/src/model/checkpoint/safetensors');
  const file = await open(norm.file, 'r+');
  await file.write(new Uint8Array(toBfloat16(new Float32Array(norm.byteLength / 2).fill(1e6)).buffer), 0, norm.byteLength, norm.offset);
  await file.close();
  const ids = prompt.slice(0, 8);
  const half = await TextEngine.load(dir, { executionProvider: 'cpu', cacheDir, precision: 'fp16' });
  const overflow = /: the model computed non-finite logits \(.*\): activations overflowed float16; run with --precision fp32/;
  await assert.rejects(half.forward(ids, textPositions(0, ids.length), half.emptyCache(), 0), overflow);
  // The decode loop checks each step inside the graph.
  await assert.rejects(half.decodeBlock(ids[0], 0, half.emptyCache(), 4), overflow);
  const full = await TextEngine.load(dir, { executionProvider: 'cpu', cacheDir, precision: 'fp32' });
  const result = await full.forward(ids, textPositions(0, ids.length), full.emptyCache(), 0);
  assert.ok(result.logits.every(Number.isFinite));
});
