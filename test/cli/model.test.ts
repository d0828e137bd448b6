import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodeNpy } from '../../server/src/io/npy';
import { vscan } from '../helpers/cli';
import { tempDir } from '../helpers/videos';

let dir: string;
let tiny: string;
before(async () => {
  dir = await tempDir('vscan-cli-model-');
  tiny = join(dir, 'tiny');
  const made = vscan(['model', 'tiny', tiny, '--seed', '5']);
  assert.equal(made.code, 0, made.stderr);
});

test('model tiny writes the Hugging Face layout; inspect summarises it', async () => {
  const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json', 'preprocessor_config.json', 'video_preprocessor_config.json'];
  for (const file of files) await readFile(join(tiny, file));
  const inspect = JSON.parse(vscan(['model', 'inspect', tiny, '--json']).stdout);
  assert.equal(inspect.modelType, 'qwen3_5');
  assert.deepEqual(inspect.dtypes, { BF16: inspect.tensors });
  // The tiny config.json gives every key the engine reads.
  assert.deepEqual(inspect.defaulted, []);
  // The same seed writes the same weights.
  const again = join(dir, 'again');
  vscan(['model', 'tiny', again, '--seed', '5']);
  assert.ok((await readFile(join(tiny, 'model.safetensors'))).equals(await readFile(join(again, 'model.safetensors'))));
  // Keys left out are listed with the default each took.
  const config = JSON.parse(await readFile(join(again, 'config.json'), 'utf8'));
  delete config.text_config.max_position_embeddings;
  delete config.text_config.rms_norm_eps;
  await writeFile(join(again, 'config.json'), JSON.stringify(config));
  const text = vscan(['model', 'inspect', again]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /\n {2}absent from config\.json, so the Hugging Face defaults: text_config\.rms_norm_eps = 0\.000001, text_config\.max_position_embeddings = 32768\n/);
});

test('model check --json reports ok on CPU with a logit difference below 1e-4', () => {
  const result = vscan(['model', 'check', tiny, '--json', '--ep', 'cpu']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  for (const key of ['ok', 'executionProvider', 'maxAbsLogitDiff', 'tokensMatch', 'loopMatches', 'loadMs', 'prefillTokensPerSec', 'decodeTokensPerSec']) assert.ok(key in report, key);
  assert.equal(report.loopMatches, true);
  assert.equal(report.ok, true);
  assert.equal(report.executionProvider, 'cpu');
  assert.equal(report.precision, 'fp32');
  assert.ok(report.maxAbsLogitDiff < 1e-4);
  assert.ok(report.peakResidentBytes > 50 * 2 ** 20, `peak resident memory ${report.peakResidentBytes}`);
});

test('model check --precision fp16 builds the half-precision graph (the CUDA default); a bad choice exits 2', () => {
  const result = vscan(['model', 'check', tiny, '--json', '--ep', 'cpu', '--precision', 'fp16']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual([report.ok, report.precision, report.tolerance], [true, 'fp16', 0.1]);
  const bad = vscan(['model', 'check', tiny, '--precision', 'fp8']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--precision is auto, fp32, fp16; got "fp8"/);
});

test('model check --threads N runs with N threads per operator and says so; 0 exits 2', () => {
  const result = vscan(['model', 'check', tiny, '--json', '--ep', 'cpu', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual([report.ok, report.loaded.threads], [true, 1]);
  const bad = vscan(['model', 'check', tiny, '--threads', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--threads needs a positive integer, got "0"/);
});

test('model logits --json and --dump', async () => {
  const result = vscan(['model', 'logits', tiny, '--ids', '10,20,30', '--json', '--dump', join(dir, 'dump')]);
  assert.equal(result.code, 0, result.stderr);
  const { logits, argmax } = JSON.parse(result.stdout);
  assert.equal(logits.length, JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8')).text_config.vocab_size);
  assert.equal(argmax, logits.indexOf(Math.max(...logits)));
  const all = decodeNpy(await readFile(join(dir, 'dump', 'logits.npy')));
  assert.deepEqual(all.shape, [1, 3, logits.length]);
  assert.ok(Math.abs((all.data as Float32Array)[2 * logits.length + 7] - logits[7]) < 1e-6);
  const positions = decodeNpy(await readFile(join(dir, 'dump', 'position_ids.npy')));
  assert.deepEqual([...positions.data].map(Number), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
  assert.equal(vscan(['model', 'logits', tiny, '--ids', '99999']).code, 2);
});

test('generate --json, and bad checkpoints exit 2 with one line', () => {
  const result = vscan(['generate', '--model', tiny, '--prompt', 'Describe the video.', '--max-new-tokens', '6', '--json', '--ep', 'cpu']);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.ok(json.ids.length <= 6);
  assert.equal(typeof json.raw, 'string');
  const bad = vscan(['model', 'check', join(dir, 'nowhere')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /config\.json: missing/);
  // One line of error (load-progress lines, which end in an ellipsis, may precede it).
  assert.equal(bad.stderr.trim().split('\n').filter((line) => !line.endsWith('…')).length, 1);
});
