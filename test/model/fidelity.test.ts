/**
 * Fidelity to upstream (transformers' Qwen3.5 configuration and modeling code): checkpoints
 * with attention biases, with keys left to the configuration class's defaults, with
 * mrope_interleaved false, and with other layer orders, head counts and rotary sections — each
 * run by the ONNX graph and held to the float64 reference written from the modeling code.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { type TinyOptions, writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { TextEngine } from '../../server/src/model/runtime/engine';
import { loadWeights, maxDifference, referenceForward, videoLikePositions } from '../helpers/referenceModel';
import { tempDir } from '../helpers/videos';

let dir: string;
let ids: number[];

before(async () => {
  dir = await tempDir('vscan-fidelity-');
  const probe = await TextEngine.load(await tiny('probe', {}), { executionProvider: 'cpu', cacheDir: join(dir, 'onnx-cache') });
  ids = probe.tokenizer.encode('Scene: a dog runs <1.0 - 2.5> then stops.').slice(0, 10);
  assert.equal(ids.length, 10);
});

async function tiny(name: string, options: TinyOptions): Promise<string> {
  const folder = join(dir, name);
  await writeTinyCheckpoint(folder, { seed: 11, ...options });
  return folder;
}

/** Our logits and the float64 reference's for the same ids and video-like 3-D positions. */
async function run(folder: string) {
  const engine = await TextEngine.load(folder, { executionProvider: 'cpu', cacheDir: join(dir, 'onnx-cache') });
  const positions = videoLikePositions(ids.length);
  const weights = await loadWeights(engine.checkpoint);
  const reference = referenceForward(engine.checkpoint, weights, ids, positions);
  const ours = await engine.forward(ids, positions, engine.emptyCache(), 0);
  return { engine, weights, positions, reference, ours: ours.logits, diff: maxDifference(reference, ours.logits) };
}

test('attention_bias: the q/k/v/o biases are applied, as upstream does (float64 reference)', async () => {
  const { engine, weights, positions, reference, diff } = await run(await tiny('bias', { attentionBias: true }));
  assert.equal(engine.checkpoint.config.text.attentionBias, true);
  assert.ok(engine.checkpoint.tensors.has('model.language_model.layers.3.self_attn.q_proj.bias'));
  assert.ok(diff < 1e-3, `max |Δlogit| ${diff}`);
  // The biases matter: the same weights with them zeroed give other logits.
  const unbiased = new Map([...weights].map(([name, values]) => [name, /_proj\.bias$/.test(name) ? values.map(() => 0) : values]));
  const without = referenceForward(engine.checkpoint, unbiased, ids, positions);
  const effect = maxDifference(reference, without);
  assert.ok(effect > 100 * Math.max(diff, 1e-5), `biases move the logits by ${effect}, the graph is off by ${diff}`);
  console.log(`# attention_bias: max |Δlogit| ${diff.toExponential(2)}; the biases themselves move logits by ${effect.toFixed(3)}`);
  // The fp16 graph (CUDA's default) takes the biases too: every row points where float32's does.
  const half = await TextEngine.load(engine.checkpoint.dir, { executionProvider: 'cpu', cacheDir: join(dir, 'onnx-cache'), precision: 'fp16' });
  const halfLogits = (await half.forward(ids, positions, half.emptyCache(), 0)).logits;
  const V = engine.vocabSize;
  reference.forEach((row, r) => {
    let dot = 0, xx = 0, yy = 0;
    row.forEach((x, j) => { const y = halfLogits[r * V + j]; dot += x * y; xx += x * x; yy += y * y; });
    assert.ok(dot / Math.sqrt(xx * yy) > 0.995, `row ${r}: cosine ${dot / Math.sqrt(xx * yy)}`);
  });
});

test('a checkpoint with attention_bias but no bias tensors fails naming the tensor and the key', async () => {
  const folder = await tiny('bias-missing', {});
  const { readFile, writeFile } = await import('node:fs/promises');
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
  config.text_config.attention_bias = true;
  await writeFile(join(folder, 'config.json'), JSON.stringify(config));
  await assert.rejects(TextEngine.load(folder, { executionProvider: 'cpu', cacheDir: join(dir, 'onnx-cache') }),
    /tensor model\.language_model\.layers\.3\.self_attn\.q_proj\.bias is missing \(text_config\.attention_bias is true\)/);
});

test('mrope_interleaved false is ignored, as upstream ignores it: the interleaved layout, the same logits as true', async () => {
  const interleaved = await run(await tiny('interleaved', { mropeInterleaved: true }));
  const flagged = await run(await tiny('not-interleaved', { mropeInterleaved: false }));
  assert.deepEqual(Array.from(flagged.ours), Array.from(interleaved.ours));
  assert.ok(flagged.diff < 1e-3, `max |Δlogit| ${flagged.diff}`);
});

test('keys left out of config.json take the Hugging Face defaults (head_dim 256, rope_theta 10,000, linear-attention sizes…)', async () => {
  const omitted = ['head_dim', 'rope_parameters', 'rms_norm_eps', 'max_position_embeddings', 'layer_types', 'attention_bias',
    'linear_num_key_heads', 'linear_num_value_heads', 'linear_key_head_dim', 'linear_value_head_dim', 'linear_conv_kernel_dim'];
  const { engine, diff } = await run(await tiny('defaults', { omitTextKeys: omitted }));
  const t = engine.checkpoint.config.text;
  assert.deepEqual(
    [t.headDim, t.ropeTheta, t.partialRotaryFactor, t.mropeSection, t.rmsNormEps, t.maxPositionEmbeddings, t.attentionBias],
    [256, 10_000, 0.25, [11, 11, 10], 1e-6, 32_768, false]);
  assert.deepEqual([t.linearNumKeyHeads, t.linearNumValueHeads, t.linearKeyHeadDim, t.linearValueHeadDim, t.linearConvKernel], [16, 32, 128, 128, 4]);
  // No layer_types: every full_attention_interval-th (4th) layer is full attention.
  assert.deepEqual(t.layerTypes, ['linear_attention', 'linear_attention', 'linear_attention', 'full_attention']);
  assert.ok(engine.checkpoint.config.defaulted.includes('text_config.head_dim = 256'));
  assert.ok(diff < 1e-3, `max |Δlogit| ${diff}`);
});

test('other layer orders, head counts and rotary sections match the float64 reference', async () => {
  const variants: [string, TinyOptions][] = [
    // Full attention first and last, grouped 4:1, wider heads with an uneven section split.
    ['full-first', { layerTypes: ['full_attention', 'linear_attention', 'full_attention'], numAttentionHeads: 4, numKeyValueHeads: 1, headDim: 64, mropeSection: [5, 2, 1] }],
    // Multi-head (no grouping), H given most frequencies, with biases.
    ['mha', { layerTypes: ['linear_attention', 'full_attention'], numAttentionHeads: 2, numKeyValueHeads: 2, headDim: 64, mropeSection: [2, 4, 2], attentionBias: true }],
    // Only full attention, three query heads per key head.
    ['all-full', { layerTypes: ['full_attention', 'full_attention'], numAttentionHeads: 6, numKeyValueHeads: 2, mropeSection: [1, 1, 2] }],
  ];
  for (const [name, options] of variants) {
    const { engine, diff } = await run(await tiny(name, options));
    assert.deepEqual(engine.checkpoint.config.text.mropeSection, options.mropeSection, name);
    assert.ok(diff < 1e-3, `${name}: max |Δlogit| ${diff}`);
  }
});
