/** Checkpoint reading: safetensors headers parsed defensively, configs checked, shards resolved. */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { openCheckpoint } from '../../server/src/model/checkpoint/checkpoint';
import { readModelConfig } from '../../server/src/model/checkpoint/config';
import { CheckpointError, fromBfloat16, readSafetensorsHeader, readTensorBytes, toBfloat16, writeSafetensors } from '../../server/src/model/checkpoint/safetensors';
import { stripThink, ModelTokenizer } from '../../server/src/model/checkpoint/tokenizer';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let tiny: string;
let dir: string;
before(async () => {
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-model-', 1));
});

/** A safetensors file with a hand-written header. */
async function rawSafetensors(name: string, header: unknown, dataBytes = 16, lengthOverride?: bigint): Promise<string> {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  const file = join(dir, name);
  await writeFile(file, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
  return file;
}

test('safetensors round trip, and bf16 conversion rounds to nearest even', async () => {
  const file = join(dir, 'round.safetensors');
  const values = new Float32Array([1, -2.5, 3.140625, 1.00390625, 1.01171875]);
  await writeSafetensors(file, [{ name: 'x', dtype: 'BF16', shape: [5], data: new Uint8Array(toBfloat16(values).buffer) }]);
  const [info] = await readSafetensorsHeader(file);
  assert.deepEqual([info.name, info.dtype, info.shape, info.byteLength], ['x', 'BF16', [5], 10]);
  const bytes = await readTensorBytes(info);
  const back = fromBfloat16(new Uint16Array(bytes.buffer, bytes.byteOffset, 5));
  // 1.00390625 is halfway between bf16 neighbours 1.0 and 1.0078125: ties to even → 1.0.
  assert.deepEqual(Array.from(back), [1, -2.5, 3.140625, 1, 1.015625]);
});

test('malformed or malicious safetensors headers fail with a message naming the file', async () => {
  const cases: [string, Promise<string>, RegExp][] = [
    ['tiny.safetensors', writeFile(join(dir, 'tiny.safetensors'), Buffer.alloc(4)).then(() => join(dir, 'tiny.safetensors')), /truncated \(4 bytes/],
    ['huge-length', rawSafetensors('huge.safetensors', {}, 0, 1n << 60n), /header length \d+ does not fit the file/],
    ['not json', writeFile(join(dir, 'nojson.safetensors'), Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')])).then(() => join(dir, 'nojson.safetensors')), /header is not valid JSON/],
    ['dtype', rawSafetensors('dtype.safetensors', { x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }), /unsupported dtype "Q4"/],
    ['shape', rawSafetensors('shape.safetensors', { x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), /invalid shape/],
    ['out of range', rawSafetensors('range.safetensors', { x: { dtype: 'F32', shape: [100], data_offsets: [0, 400] } }), /bytes 0–400 lie outside the data \(16 bytes\)/],
    ['size mismatch', rawSafetensors('size.safetensors', { x: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }), /12 bytes for shape \[2\] of F32 \(expected 8\)/],
    ['overlap', rawSafetensors('overlap.safetensors', { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), /overlap/],
  ];
  for (const [what, made, message] of cases) {
    const file = await made;
    await assert.rejects(readSafetensorsHeader(file), (e: Error) => e instanceof CheckpointError && e.message.startsWith(file) && message.test(e.message), what);
  }
});

test('the tiny checkpoint opens through the real-checkpoint code path', async () => {
  const checkpoint = await openCheckpoint(tiny);
  assert.equal(checkpoint.config.modelType, 'qwen3_5');
  assert.deepEqual(checkpoint.config.text.layerTypes, ['linear_attention', 'linear_attention', 'linear_attention', 'full_attention']);
  assert.ok(checkpoint.tensors.has('model.language_model.layers.0.linear_attn.in_proj_qkv.weight'));
  assert.ok(checkpoint.tensors.has('model.visual.blocks.1.attn.qkv.weight'));
  assert.ok([...checkpoint.tensors.values()].every((t) => t.dtype === 'BF16'));
});

async function variant(name: string, edit: (folder: string) => Promise<void>): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json']) {
    await copyFile(join(tiny, file), join(folder, file));
  }
  await edit(folder);
  return folder;
}

test('bad checkpoints: missing file, truncated weights, wrong shape, unsupported model type', async () => {
  const missing = await variant('missing', async (f) => { await writeFile(join(f, 'model.safetensors'), ''); await truncate(join(f, 'model.safetensors'), 0); });
  await assert.rejects(openCheckpoint(missing), /model\.safetensors: truncated \(0 bytes/);
  const truncated = await variant('truncated', async (f) => truncate(join(f, 'model.safetensors'), 4000));
  await assert.rejects(openCheckpoint(truncated), /model\.safetensors: (header length|tensor .* lie outside)/);
  const wrongShape = await variant('wrong-shape', async (f) => {
    const config = JSON.parse(await readFile(join(f, 'config.json'), 'utf8'));
    config.text_config.intermediate_size = 96;
    await writeFile(join(f, 'config.json'), JSON.stringify(config));
  });
  await assert.rejects(openCheckpoint(wrongShape), /gate_proj\.weight has shape \[128,64\], config\.json implies \[96,64\]/);
  const llama = await variant('llama', async (f) => writeFile(join(f, 'config.json'), JSON.stringify({ model_type: 'llama' })));
  await assert.rejects(openCheckpoint(llama), /model_type "llama" is not supported/);
  await assert.rejects(openCheckpoint(join(dir, 'nowhere')), /config\.json: missing/);
});

test('sharded checkpoints: weights spread over files named by an index', async () => {
  const sharded = await variant('sharded', async (f) => {
    const infos = await readSafetensorsHeader(join(f, 'model.safetensors'));
    const tensors = await Promise.all(infos.map(async (t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: new Uint8Array(await readTensorBytes(t)) })));
    const half = Math.ceil(tensors.length / 2);
    const shards = [tensors.slice(0, half), tensors.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      await writeSafetensors(join(f, name), shard);
      for (const t of shard) weightMap[t.name] = name;
    }
    await truncate(join(f, 'model.safetensors'), 0);
    const { rm } = await import('node:fs/promises');
    await rm(join(f, 'model.safetensors'));
    await writeFile(join(f, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  });
  const checkpoint = await openCheckpoint(sharded);
  assert.equal(checkpoint.files.length, 2);
  const traversal = await variant('traversal', async (f) => {
    await writeFile(join(f, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: '../tiny/model.safetensors' } }));
  });
  await assert.rejects(openCheckpoint(traversal), /weight_map names "\.\.\/tiny\/model\.safetensors", not a \.safetensors file in the checkpoint folder/);
});

test('tokenizer round trip and the chat template with a video', async () => {
  const tokenizer = await ModelTokenizer.load(tiny);
  const text = 'Scene: café 🎬 — <0.0 - 2.5> the dog runs\n<think>x</think>';
  assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  const prompt = await tokenizer.renderChat([{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'Describe the video.' }] }]);
  assert.equal(prompt, '<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe the video.<|im_end|>\n<|im_start|>assistant\n');
  const ids = tokenizer.encode(prompt);
  assert.ok(ids.includes(tokenizer.tokenId('<|video_pad|>')));
  assert.equal(ids.filter((id) => id === tokenizer.tokenId('<|im_start|>')).length, 2);
});

test('stripThink removes a leading think block or a bare <think>', () => {
  assert.equal(stripThink('<think>\nplanning\n</think>\n\nScene: x'), 'Scene: x');
  assert.equal(stripThink('  <think>Scene: x'), 'Scene: x');
  assert.equal(stripThink('Scene: x <think>kept</think>'), 'Scene: x <think>kept</think>');
});

test('keys left out of config.json take the Hugging Face configuration classes\' defaults', async () => {
  const folder = join(dir, 'bare-config');
  await mkdir(folder, { recursive: true });
  const write = (config: unknown) => writeFile(join(folder, 'config.json'), JSON.stringify(config));
  // Everything defaulted: the vision tower's 3,584 outputs do not fit the text model's 4,096,
  // and the error says which defaults made them.
  await write({ model_type: 'qwen3_5', text_config: {}, vision_config: {} });
  await assert.rejects(readModelConfig(folder),
    /vision_config\.out_hidden_size \(3584\) must equal text_config\.hidden_size \(4096\) \(absent from config\.json, so the Hugging Face defaults: .*text_config\.hidden_size = 4096.*vision_config\.out_hidden_size = 3584/);
  await write({ model_type: 'qwen3_5', text_config: { hidden_size: 3584 }, vision_config: {} });
  const config = await readModelConfig(folder);
  const { text: t, vision: v } = config;
  assert.deepEqual([t.vocabSize, t.intermediateSize, t.numLayers, t.numAttentionHeads, t.numKeyValueHeads, t.headDim, t.tieWordEmbeddings],
    [248_320, 12_288, 32, 16, 4, 256, false]);
  assert.deepEqual([t.ropeTheta, t.partialRotaryFactor, t.mropeSection, t.rmsNormEps, t.maxPositionEmbeddings], [10_000, 0.25, [11, 11, 10], 1e-6, 32_768]);
  assert.equal(t.layerTypes.filter((type) => type === 'full_attention').length, 8);
  assert.deepEqual([v.depth, v.hiddenSize, v.intermediateSize, v.numHeads, v.inChannels, v.patchSize, v.temporalPatchSize, v.spatialMergeSize, v.numPositionEmbeddings],
    [27, 1152, 4304, 16, 3, 16, 2, 2, 2304]);
  assert.deepEqual([config.imageTokenId, config.videoTokenId, config.visionStartTokenId, config.visionEndTokenId], [248_056, 248_057, 248_053, 248_054]);
  assert.ok(!config.defaulted.some((key) => key.startsWith('text_config.hidden_size')));
  // Older configs put the rotary keys at the top of text_config; rope_parameters wins over them.
  await write({ model_type: 'qwen3_5', text_config: { hidden_size: 3584, rope_theta: 5e6, partial_rotary_factor: 0.5, rope_parameters: { mrope_section: [22, 22, 20] } }, vision_config: {} });
  assert.deepEqual([(await readModelConfig(folder)).text.ropeTheta, (await readModelConfig(folder)).text.partialRotaryFactor], [5e6, 0.5]);
  await write({ model_type: 'qwen3_5', text_config: { hidden_size: 3584, rope_theta: 5e6, rope_parameters: { rope_theta: 1e7 } }, vision_config: {} });
  assert.equal((await readModelConfig(folder)).text.ropeTheta, 1e7);
  // A key that is there but wrong still fails, naming it.
  await write({ model_type: 'qwen3_5', text_config: { head_dim: 'wide' }, vision_config: {} });
  await assert.rejects(readModelConfig(folder), /config\.json: text_config\.head_dim must be a positive integer, got "wide"$/);
  await write({ model_type: 'qwen3_5', text_config: 'none', vision_config: {} });
  await assert.rejects(readModelConfig(folder), /config\.json: text_config must be an object, got "none"$/);
});

test('a default that does not fit the weights fails naming the tensor and the defaulted key', async () => {
  const noHeadDim = await variant('no-head-dim', async (f) => {
    const config = JSON.parse(await readFile(join(f, 'config.json'), 'utf8'));
    delete config.text_config.head_dim;
    delete config.text_config.rope_parameters.mrope_section;
    await writeFile(join(f, 'config.json'), JSON.stringify(config));
  });
  await assert.rejects(openCheckpoint(noHeadDim),
    /q_proj\.weight has shape \[256,64\], config\.json implies \[2048,64\] \(absent from config\.json, so the Hugging Face defaults: .*text_config\.head_dim = 256/);
  // Left with the tiny model's own sections, the defaulted head size fails the rotary check first.
  const sectioned = await variant('no-head-dim-sections', async (f) => {
    const config = JSON.parse(await readFile(join(f, 'config.json'), 'utf8'));
    delete config.text_config.head_dim;
    await writeFile(join(f, 'config.json'), JSON.stringify(config));
  });
  await assert.rejects(openCheckpoint(sectioned), /mrope_section must be sections summing to half the rotary dimension \(32\), got \[2,1,1\] \(absent from config\.json, so the Hugging Face defaults: text_config\.head_dim = 256\)/);
});
