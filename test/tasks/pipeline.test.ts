/**
 * The overlapped caption pipeline on the tiny checkpoint (CPU) and generated videos: frame
 * pairs encoded as they arrive and the next window prepared during this one's model run give
 * exactly what the stages one after another give; cancelling or failing leaves no process.
 */
import assert from 'node:assert/strict';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { WindowLookahead, type WindowPreparation } from '../../server/src/tasks/lookahead';
import { looksAhead, VideoModel } from '../../server/src/tasks/videoTasks';
import { decodeFrames } from '../../server/src/video/decode';
import { FramePairs } from '../../server/src/video/framePairs';
import { prepareVideo, startVideo } from '../../server/src/video/pipeline';
import { patchify } from '../../server/src/video/preprocess';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { mediaWorker, resolveTool } from '../../server/src/video/tools';
import { makeIndexVideo } from '../helpers/videos';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let dir: string;
let model: VideoModel;
let short: string;
let long: string;
const WINDOWS = { window: 4, overlap: 1 };

before(async () => {
  let tiny: string;
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-pipeline-', 21));
  model = await VideoModel.load(tiny, { executionProvider: 'cpu', cacheDir: join(dir, 'cache') });
  short = await makeIndexVideo(join(dir, 'short.mkv'), 40, '64x48', 10);
  long = await makeIndexVideo(join(dir, 'long.mkv'), 100, '32x24', 10); // 10 s: windows 0–4, 3–7, 6–10
});

/**
 * The media workers and decoders this test process has started and not yet reaped (tsx's
 * own esbuild service, a child too, is not one of ours).
 */
async function mediaProcesses(): Promise<string[]> {
  const tasks = await readdir('/proc/self/task');
  const children = await Promise.all(tasks.map((t) => readFile(`/proc/self/task/${t}/children`, 'utf8').catch(() => '')));
  const pids = children.join(' ').split(/\s+/).filter(Boolean);
  const commands = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').then((c) => c.replaceAll('\0', ' ').trim(), () => '')));
  const ours = [mediaWorker().args[0], 'ffmpeg', 'sleep', dir];
  return commands.filter((command) => ours.some((mark) => command.includes(mark)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * An ffmpeg that records each start's pid, runs the real ffmpeg for the first `healthy`
 * starts, then does what `after` says (`hang`: sleeps in its own pid; `fail`: exits 1 saying why).
 */
async function scriptedFfmpeg(name: string, healthy: number, after: 'hang' | 'fail'): Promise<{ path: string; pids: () => Promise<number[]> }> {
  const path = join(dir, `${name}.sh`);
  const log = join(dir, `${name}.pids`);
  await writeFile(log, '');
  const then = after === 'hang' ? 'exec sleep 600' : 'echo "scripted decoder failure on window 2" >&2; exit 1';
  await writeFile(path, `#!/bin/sh\necho $$ >> "${log}"\nif [ "$(wc -l < "${log}")" -le ${healthy} ]; then exec "${resolveTool('ffmpeg')}" "$@"; fi\n${then}\n`);
  await chmod(path, 0o755);
  return { path, pids: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean).map(Number) };
}

test('frame pairs are written as their frames arrive, in any order, and read in order', () => {
  const geometry = model.geometry;
  const [w, h] = [32, 32];
  const frames = Array.from({ length: 5 }, (_, i) => Uint8Array.from({ length: w * h * 3 }, (_, j) => (i * 53 + j) % 256));
  const pairs = new FramePairs(frames.length, w, h, geometry);
  assert.equal(pairs.pairs, 3);
  const order: number[] = [];
  for (const count of [1, 2, 3]) void pairs.ready(count).then(() => order.push(count));
  pairs.add(3, frames[3]);
  pairs.add(2, frames[2]);
  pairs.add(4, frames[4]); // the last pair of an odd count: one frame, repeated
  return Promise.resolve().then(() => {
    assert.deepEqual(order, [], 'pair 0 is missing: nothing is ready');
    pairs.add(1, frames[1]);
    pairs.add(0, frames[0]);
    return pairs.ready(3);
  }).then(() => {
    assert.deepEqual(order, [1, 2, 3]);
    const whole = patchify(frames, w, h, geometry);
    assert.deepEqual(pairs.pixelValues.gridThw, whole.gridThw);
    assert.ok(Buffer.from(pairs.pixelValues.data.buffer).equals(Buffer.from(whole.data.buffer)), 'the same bits as patchifying all frames at once');
  });
});

test('a reader waiting for pairs gets the error when preparing the video fails', async () => {
  const pairs = new FramePairs(4, 32, 32, model.geometry);
  const waiting = pairs.ready(2);
  pairs.fail(new Error('clip.mp4: decoded 1 of 4 planned frames'));
  await assert.rejects(waiting, /decoded 1 of 4/);
  await assert.rejects(pairs.ready(1), /decoded 1 of 4/);
});

test('encoding pairs as they arrive gives the same features, bit for bit, as encoding after the last frame', async () => {
  const options = { sampling: TRAINING_DEFAULTS, geometry: model.geometry };
  const whole = await prepareVideo(short, options);
  const after = await model.encode(whole, { pairsPerRun: 1 });
  const streaming = startVideo(short, options);
  const arriving = await model.encode(await streaming.pairs, { pairsPerRun: 1 });
  const streamed = await streaming.prepared;
  assert.ok(whole.plan.frameIndices.length >= 8, 'several pairs');
  assert.ok(Buffer.from(streamed.pixelValues.data.buffer).equals(Buffer.from(whole.pixelValues.data.buffer)), 'pixel values');
  assert.ok(Buffer.from(arriving.buffer).equals(Buffer.from(after.buffer)), 'features');
});

test('a caption with the stages overlapped equals the caption with them in turn: prompt, features (through the logits) and text', async () => {
  const instruction = model.prompts.caption;
  const overlapped = await model.run(short, instruction, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6, pairsPerRun: 1 });
  const inTurn = await model.run(short, instruction, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6, pairsPerRun: 1, pipeline: false });
  assert.deepEqual(overlapped.prompt.ids, inTurn.prompt.ids);
  assert.deepEqual(overlapped.prompt.positions, inTurn.prompt.positions);
  assert.ok(Buffer.from(overlapped.firstLogits.buffer).equals(Buffer.from(inTurn.firstLogits.buffer)), 'first logits, bit for bit');
  assert.equal(overlapped.raw, inTurn.raw);
});

test('the frames and pixel values are let go after the vision tower unless kept (for --dump), with the same caption either way', async () => {
  const instruction = model.prompts.caption;
  const released = await model.run(short, instruction, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6 });
  const kept = await model.run(short, instruction, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6, keepPixels: true });
  assert.equal(released.prepared.pixelValues.data.length, 0);
  assert.equal(released.prepared.frames.length, 0);
  const { rows, columns } = kept.prepared.pixelValues;
  assert.equal(kept.prepared.pixelValues.data.length, rows * columns);
  assert.equal(kept.prepared.frames.length, kept.prepared.plan.frameIndices.length);
  assert.ok(Buffer.from(released.firstLogits.buffer).equals(Buffer.from(kept.firstLogits.buffer)), 'first logits, bit for bit');
  assert.equal(released.raw, kept.raw);
});

test('windows prepared one ahead give the same caption as windows in turn, with the wall time against the stages', async () => {
  const ahead = await model.captionLong(long, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6, ...WINDOWS, pipeline: true });
  const inTurn = await model.captionLong(long, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6, ...WINDOWS, pipeline: false });
  assert.equal(ahead.windows.length, 3);
  assert.equal(ahead.raw, inTurn.raw);
  assert.deepEqual(ahead.windows, inTurn.windows);
  for (const { wall } of [ahead, inTurn]) {
    assert.ok(wall.wallMs > 0 && wall.stagesMs > 0);
    assert.equal(wall.overlapMs, wall.stagesMs - wall.wallMs);
  }
  assert.deepEqual(await mediaProcesses(), []);
});

test('cancelling a caption while the next window is being prepared rejects and leaves no decoder or media worker', async () => {
  // The first window decodes; the look-ahead's decoder hangs, as a slow one would.
  const ffmpeg = await scriptedFfmpeg('hang', 1, 'hang');
  const controller = new AbortController();
  const caption = model.captionLong(long, { sampling: TRAINING_DEFAULTS, maxNewTokens: 400, ...WINDOWS, ffmpegPath: ffmpeg.path, signal: controller.signal, pipeline: true });
  caption.catch(() => undefined);
  // Cancel once the look-ahead's decoder runs (bounded wait: the second start comes right after the first window's frames).
  for (let i = 0; i < 600 && (await ffmpeg.pids()).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const [, lookahead] = await ffmpeg.pids();
  assert.ok(lookahead !== undefined && alive(lookahead), 'the look-ahead decoder was running when cancelled');
  controller.abort();
  await assert.rejects(caption, /cancelled/);
  assert.equal(alive(lookahead), false, 'the look-ahead decoder was ended');
  assert.deepEqual(await mediaProcesses(), [], 'no media worker or ffmpeg remains');
});

test('a window prepared ahead that fails gives that window\'s error, as in turn, and no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const errors: string[] = [];
    for (const pipeline of [true, false]) {
      const ffmpeg = await scriptedFfmpeg(`fail-${pipeline}`, 1, 'fail');
      const windowsDone: number[] = [];
      await assert.rejects(model.captionLong(long, {
        sampling: TRAINING_DEFAULTS, maxNewTokens: 6, ...WINDOWS, ffmpegPath: ffmpeg.path, pipeline,
        onProgress: (p) => { if (p.stage === 'generating' && p.done === 0) windowsDone.push(windowsDone.length); },
      }), (error: Error) => {
        errors.push(error.message);
        return true;
      });
      assert.equal(windowsDone.length, 1, 'the first window ran to generation; the second failed before it');
    }
    assert.match(errors[0], /long\.mkv.*scripted decoder failure on window 2/);
    assert.equal(errors[0], errors[1]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    assert.deepEqual(await mediaProcesses(), []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('the next window is prepared ahead by default only where the model runs on a GPU; asked for, anywhere', () => {
  assert.equal(looksAhead(undefined, 'cpu'), false);
  assert.equal(looksAhead(undefined, 'cuda'), true);
  assert.equal(looksAhead(undefined, 'webgpu'), true);
  assert.equal(looksAhead(true, 'cpu'), true);
  assert.equal(looksAhead(false, 'cuda'), false);
});

test('windows taken in order: a finished window\'s frames are let go, so a long video holds two windows\' frames, not all of them', async () => {
  const stopped: number[] = [];
  // Stand-ins that finish at once: what matters here is which the look-ahead still holds.
  const fake = (index: number) => ({ preparation: { prepared: Promise.resolve() }, stop: async () => { stopped.push(index); } }) as unknown as WindowPreparation;
  const lookahead = new WindowLookahead(5, fake, true);
  lookahead.take(0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lookahead.held(), [0, 1]); // window 1 started ahead once window 0's frames were in
  lookahead.take(1);
  lookahead.take(2);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lookahead.held(), [2, 3]);
  await lookahead.stop();
  assert.deepEqual(stopped.sort(), [2, 3]);
});

test('the decoder pauses while its receiver is full, past its stall timeout, and then delivers every frame', async () => {
  const indices = Array.from({ length: 40 }, (_, i) => i);
  const received: number[] = [];
  let pauses = 0;
  let release: (() => void) | undefined;
  const decoding = decodeFrames(short, indices, (frame) => received.push(frame.position), {
    stallTimeoutMs: 300,
    throttle: () => {
      if (pauses > 0 || received.length < 4) return undefined;
      pauses++;
      return new Promise<void>((resolve) => { release = resolve; });
    },
  });
  for (let i = 0; i < 200 && !release; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(release, 'the receiver asked for a pause');
  const atPause = received.length;
  await new Promise((resolve) => setTimeout(resolve, 900)); // three stall timeouts
  assert.equal(received.length, atPause, 'nothing was delivered while paused');
  release!();
  await decoding;
  assert.deepEqual(received, indices.map((_, i) => i));
});
