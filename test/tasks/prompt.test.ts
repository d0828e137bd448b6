/** The video prompt and 3-D positions against hand-computed values; the answer parsers. */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseVscan, validateVscan, DEFAULT_SETTINGS } from '../../server/src/language';
import { parseCaption, parseFind } from '../../server/src/tasks/parse';
import { expandVideoPlaceholder, ropeIndex } from '../../server/src/tasks/videoPrompt';
import { candidateNames, captionToVscan, writeNewFile } from '../../server/src/tasks/writeResult';
import { planFrames, TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { tempDir } from '../helpers/videos';

test('the video item expands per frame pair with its timestamp', () => {
  // 8 frames at 4 fps → 4 sampled, 2 pairs; 32×24 → 448×320 → grid 20×28 → 140 tokens per pair.
  const plan = planFrames({ frameCount: 8, fps: 4, width: 32, height: 24 }, TRAINING_DEFAULTS);
  const text = expandVideoPlaceholder('<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe.<|im_end|>\n', plan, 2);
  const pad = '<|video_pad|>'.repeat(140);
  assert.equal(text, `<|im_start|>user\n<0.2 seconds><|vision_start|>${pad}<|vision_end|><1.5 seconds><|vision_start|>${pad}<|vision_end|>Describe.<|im_end|>\n`);
});

test('3-D positions: text advances all streams; a pair block is T=p, H=p+row, W=p+col; then p+max(rows, cols)', () => {
  const V = 9; // the video token id in this toy sequence
  // Two text tokens, one pair of a 4×6 patch grid (merged 2×3 = 6 tokens), one text token,
  // a second pair, then two text tokens.
  const ids = [1, 2, ...Array(6).fill(V), 3, ...Array(6).fill(V), 4, 5];
  const { positions, ropeDelta } = ropeIndex(ids, V, [2, 4, 6], 2);
  const [T, H, W] = positions;
  // Hand-computed: text 0, 1; pair at p = 2: T = 2…, H = 2 + row (rows 0–1), W = 2 + col (cols 0–2);
  // next = 2 + max(2, 3) = 5 for the text token; second pair at p = 6; next = 9, 10.
  assert.deepEqual(T, [0, 1, 2, 2, 2, 2, 2, 2, 5, 6, 6, 6, 6, 6, 6, 9, 10]);
  assert.deepEqual(H, [0, 1, 2, 2, 2, 3, 3, 3, 5, 6, 6, 6, 7, 7, 7, 9, 10]);
  assert.deepEqual(W, [0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7, 8, 6, 7, 8, 9, 10]);
  // max position 10, 17 tokens: decoding continues at past + (10 + 1 − 17).
  assert.equal(ropeDelta, 10 + 1 - 17);
});

test('caption parser: trained format, raw one-line output, think blocks, and honest failures', () => {
  const corpus: [string, boolean, number][] = [
    ['<think>\n\n</think>\n\nScene: A dog runs in a park.\nEvents:\n<0.0 - 2.5> the dog starts running\n<2.5 - 4.0> the dog stops', true, 2],
    ['<think>Scene: A kitchen. Events: <0.0 - 1.5> opens the fridge <1.5 - 3.0> takes eggs', true, 2],
    ['Scene: A street.\nEvents: <0:01.5 - 0:03> a car passes', true, 1],
    ['A dog runs. It stops.', false, 0],
    ['Scene: Something.\nEvents:\nno timestamps here', false, 0],
  ];
  for (const [raw, ok, events] of corpus) {
    const result = parseCaption(raw);
    assert.equal(result.format_ok, ok, raw);
    assert.equal(result.events.length, events, raw);
  }
  assert.deepEqual(parseCaption(corpus[2][0]).events, [{ start: 1.5, end: 3, description: 'a car passes' }]);
});

test('find parser: the trained form, looser forms, and none', () => {
  assert.deepEqual(parseFind('<think>\n</think>\nFrom 14.3 to 18.2.'), { raw: '<think>\n</think>\nFrom 14.3 to 18.2.', span: [14.3, 18.2], format_ok: true });
  assert.deepEqual(parseFind('From 14.3s to 18.2s').span, [14.3, 18.2]);
  assert.equal(parseFind('From 14.3s to 18.2s').format_ok, false);
  assert.deepEqual(parseFind('It happens from 1:02.5 to 1:05 in the video').span, [62.5, 65]);
  assert.deepEqual(parseFind('<3.0 - 4.5>').span, [3, 4.5]);
  assert.deepEqual(parseFind('I cannot tell.'), { raw: 'I cannot tell.', span: null, format_ok: false });
});

test('captions become valid .vscan files and never overwrite an existing one', async () => {
  const dir = await tempDir('vscan-write-');
  await mkdir(dir, { recursive: true });
  const video = join(dir, 'clip.mp4');
  const text = captionToVscan(parseCaption('Scene: A dog.\nEvents:\n<0 - 2.5> runs\n<2.5 - 4> stops'), 'clip.mp4');
  assert.deepEqual(validateVscan(parseVscan(text), {}, DEFAULT_SETTINGS).filter((d) => d.code !== 'missing-video'), []);
  await writeFile(join(dir, 'clip.vscan'), 'edited by hand\n');
  const written = await writeNewFile(candidateNames(video), text);
  assert.equal(written, join(dir, 'clip.2.vscan'));
  assert.equal(await readFile(join(dir, 'clip.vscan'), 'utf8'), 'edited by hand\n');
  assert.equal(await readFile(written, 'utf8'), text);
  const off = captionToVscan(parseCaption('gibberish \u0007 with\ncontrol characters'), 'clip.mp4');
  assert.match(off, /^# The model did not answer in the trained format/m);
  assert.doesNotMatch(off, /\u0007/);
});
