/** Caption and Find end to end on a generated video with the tiny checkpoint (CPU). */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodeNpy } from '../../server/src/io/npy';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { prepareVideo } from '../../server/src/video/pipeline';
import { vscan } from '../helpers/cli';
import { makeIndexVideo } from '../helpers/videos';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let dir: string;
let tiny: string;
let video: string;
let model: VideoModel;

before(async () => {
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-tasks-', 11));
  video = await makeIndexVideo(join(dir, 'clip.mkv'), 30, '32x24', 10);
  model = await VideoModel.load(tiny, { executionProvider: 'cpu', cacheDir: join(dir, 'cache') });
});

test('the vision tower keeps attention inside each frame pair (batching does not change features)', async () => {
  const prepared = await prepareVideo(video, { sampling: TRAINING_DEFAULTS, geometry: model.geometry });
  const together = await model.encode(prepared, { pairsPerRun: 3 });
  const apart = await model.encode(prepared, { pairsPerRun: 1 });
  assert.equal(together.length, prepared.plan.visualTokens * model.text.checkpoint.config.text.hiddenSize);
  let diff = 0;
  for (let i = 0; i < together.length; i++) diff = Math.max(diff, Math.abs(together[i] - apart[i]));
  assert.ok(diff < 1e-5, String(diff));
  // Different frames give different features.
  const hidden = model.text.checkpoint.config.text.hiddenSize;
  const perPair = prepared.plan.visualTokens / 3;
  assert.notDeepEqual(Array.from(together.subarray(0, hidden)), Array.from(together.subarray(perPair * hidden, perPair * hidden + hidden)));
});

test('the vision tower computes what the Hugging Face modeling code computes (float64 reference)', async () => {
  const { loadWeights } = await import('../helpers/referenceModel');
  const { referenceVision } = await import('../helpers/referenceVision');
  const prepared = await prepareVideo(video, { sampling: TRAINING_DEFAULTS, geometry: model.geometry });
  const features = await model.encode(prepared);
  const weights = await loadWeights(model.text.checkpoint, 'model.visual');
  const [pairs, gh, gw] = prepared.pixelValues.gridThw;
  const S = gh * gw;
  const columns = prepared.pixelValues.columns;
  const hidden = model.text.checkpoint.config.text.hiddenSize;
  let diff = 0;
  for (const pair of [0, pairs - 1]) {
    const rows = Array.from({ length: S }, (_, s) => Float64Array.from(prepared.pixelValues.data.subarray((pair * S + s) * columns, (pair * S + s + 1) * columns)));
    referenceVision(model.text.checkpoint, weights, rows, gh, gw).forEach((row, t) => row.forEach((value, d) => {
      diff = Math.max(diff, Math.abs(value - features[(pair * (S / 4) + t) * hidden + d]));
    }));
  }
  // Measured 2.6e-6; the tanh GELU in place of the merger's exact one reads 4.6e-4.
  assert.ok(diff < 1e-4, `max |Δ| ${diff}`);
  console.log(`# vision reference check: max |Δ| ${diff.toExponential(2)} over 2 frame pairs of ${gh}×${gw} patches`);
});

test('at fp16 (CUDA\'s default) the vision tower gives the float32 features to half precision', async () => {
  const half = await VideoModel.load(tiny, { executionProvider: 'cpu', cacheDir: join(dir, 'cache'), precision: 'fp16' });
  assert.equal(half.text.report.precision, 'fp16');
  const prepared = await prepareVideo(video, { sampling: TRAINING_DEFAULTS, geometry: model.geometry });
  const a = await model.encode(prepared);
  const b = await half.encode(prepared);
  assert.equal(b.length, a.length);
  const hidden = model.text.checkpoint.config.text.hiddenSize;
  for (let token = 0; token < a.length / hidden; token++) {
    let dot = 0, aa = 0, bb = 0;
    for (let j = token * hidden; j < (token + 1) * hidden; j++) { dot += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; }
    assert.ok(dot / Math.sqrt(aa * bb) > 0.995, `token ${token}: cosine ${dot / Math.sqrt(aa * bb)}`);
  }
});

test('progress reports every stage, and cancellation stops the run', async () => {
  const stages = new Set<string>();
  await model.caption(video, { sampling: TRAINING_DEFAULTS, maxNewTokens: 3, onProgress: (p) => stages.add(p.stage) });
  assert.deepEqual([...stages], ['probing', 'decoding', 'encoding', 'generating']);
  const controller = new AbortController();
  await assert.rejects(model.caption(video, { sampling: TRAINING_DEFAULTS, maxNewTokens: 500, signal: controller.signal, onText: () => controller.abort() }), /cancelled/);
});

test('vscan caption writes clip.vscan beside the video, then clip.2.vscan; --dump writes the exact inputs', async () => {
  const first = vscan(['caption', video, '--model', tiny, '--max-new-tokens', '8', '--json', '--ep', 'cpu', '--dump', join(dir, 'dump')]);
  assert.equal(first.code, 0, first.stderr);
  const result = JSON.parse(first.stdout);
  assert.equal(result.file, join(dir, 'clip.vscan'));
  assert.equal(typeof result.format_ok, 'boolean');
  // The timings: per window, the stages summed against the wall time, and the peak memory of the process.
  const { timings } = result;
  assert.equal(timings.pipeline, true);
  assert.equal(timings.lookahead, false); // on the CPU, by default (looksAhead)
  assert.equal(timings.windows.length, 1);
  assert.ok(timings.wallMs > 0 && timings.stagesMs > timings.windows[0].model.vision, JSON.stringify(timings));
  assert.equal(timings.overlapMs, timings.stagesMs - timings.wallMs);
  assert.ok(timings.peakResidentBytes > 50 * 2 ** 20, 'the peak includes the runtime and the model');
  const text = await readFile(result.file, 'utf8');
  assert.match(text, /^Video: clip\.mkv\nModel: tiny\n/);
  // A video named on the command line is captioned into the next free name, as the README
  // and the editor's command say (it was skipped before); the first caption is untouched.
  const second = JSON.parse(vscan(['caption', video, '--model', tiny, '--max-new-tokens', '4', '--json', '--ep', 'cpu', '--no-pipeline']).stdout);
  assert.equal(second.file, join(dir, 'clip.2.vscan'));
  assert.equal(second.timings.pipeline, false);
  assert.equal(await readFile(result.file, 'utf8'), text, 'the first caption is untouched');
  // In a folder, a video that has its .vscan is skipped (re-running a folder resumes it); --force captions it again.
  const folder = join(dir, 'resume');
  await mkdir(folder, { recursive: true });
  await copyFile(video, join(folder, 'clip.mkv'));
  await writeFile(join(folder, 'clip.vscan'), text);
  assert.deepEqual(JSON.parse(vscan(['caption', folder, '--model', tiny, '--json', '--ep', 'cpu']).stdout), { videos: 1, jobs: 1, done: [], skipped: [{ video: join(folder, 'clip.mkv'), reason: 'clip.vscan exists' }], failed: [] });
  const forced = JSON.parse(vscan(['caption', folder, '--model', tiny, '--max-new-tokens', '4', '--json', '--ep', 'cpu', '--force']).stdout);
  assert.equal(forced.done[0].file, join(folder, 'clip.2.vscan'));

  const ids = decodeNpy(await readFile(join(dir, 'dump', 'input_ids.npy')));
  const positions = decodeNpy(await readFile(join(dir, 'dump', 'position_ids.npy')));
  const pixels = decodeNpy(await readFile(join(dir, 'dump', 'pixel_values.npy')));
  const grid = decodeNpy(await readFile(join(dir, 'dump', 'grid_thw.npy')));
  const logits = decodeNpy(await readFile(join(dir, 'dump', 'logits.npy')));
  const config = JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8'));
  const pads = [...ids.data].filter((id) => Number(id) === config.video_token_id).length;
  assert.deepEqual([...grid.data].map(Number), [3, 20, 28]);
  assert.equal(pads, (3 * 20 * 28) / 4);
  assert.deepEqual(pixels.shape, [3 * 20 * 28, 1536]);
  assert.equal(pixels.data.length, 3 * 20 * 28 * 1536, '--dump keeps the pixel values past the vision tower');
  assert.deepEqual(positions.shape, [3, 1, ids.shape[1]]);
  assert.deepEqual(logits.shape, [1, config.text_config.vocab_size]);
});

test('vscan find answers with a span or null, and says whether the format matched', () => {
  const result = vscan(['find', video, 'the counter shows two', '--model', tiny, '--json', '--ep', 'cpu']);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.ok(json.span === null || (Array.isArray(json.span) && json.span.length === 2));
  assert.equal(typeof json.format_ok, 'boolean');
  assert.equal(vscan(['find', video, '--model', tiny]).code, 2);
});

test('chunked prefill splits the vision features at chunk boundaries correctly', async () => {
  const { buildVideoPrompt } = await import('../../server/src/tasks/videoPrompt');
  const prepared = await prepareVideo(video, { sampling: TRAINING_DEFAULTS, geometry: model.geometry });
  const features = await model.encode(prepared);
  const prompt = await buildVideoPrompt(model.text.tokenizer, model.text.checkpoint.config, prepared.plan, 'Describe.');
  const visual = { embeds: features, index: prompt.videoPadIndex };
  const whole = await model.text.forward(prompt.ids, prompt.positions, model.text.emptyCache(), prompt.ids.length - 1, visual);
  const chunked = await model.text.prefill(prompt.ids, prompt.positions, visual, 100); // boundaries fall inside the video tokens
  let diff = 0;
  for (let j = 0; j < model.text.vocabSize; j++) diff = Math.max(diff, Math.abs(whole.logits[j] - chunked.logits[j]));
  assert.ok(diff < 1e-4, String(diff));
});
