/**
 * The server's job queue answers a cancel at once in every engine state (issue 11): while
 * the checkpoint loads, and while a step that cannot be interrupted runs; the next job
 * still runs after it, on the loaded model.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EngineSettings, JobQueue } from '../../server/src/lsp/jobs';
import type { StatusParams } from '../../server/src/lsp/protocol';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { makeVideo } from '../helpers/videos';

let queue: JobQueue;
let settings: EngineSettings;
let video: string;
const statuses: StatusParams[] = [];
let onStatus: ((status: StatusParams) => void) | undefined;

before(async () => {
  const { dir, tiny } = await tempTinyCheckpoint('vscan-jobs-', 4);
  video = await makeVideo(join(dir, 'clip.mp4'), 2, '64x48', 4);
  settings = { model: tiny, executionProvider: 'cpu', precision: 'fp32', weights: 'bf16', kvCache: 'auto', threads: undefined };
  queue = new JobQueue(settings, (status) => {
    statuses.push(status);
    onStatus?.(status);
  });
});
after(() => queue.dispose());

const request = () => ({ task: 'caption' as const, video, sampling: TRAINING_DEFAULTS, maxNewTokens: 3 });

test('a cancel while the checkpoint loads is answered before the load ends; the next job runs on the loaded model', { timeout: 120_000 }, async () => {
  const controller = new AbortController();
  onStatus = (status) => { if (status.state === 'loading') controller.abort(); };
  await assert.rejects(queue.run(request(), { signal: controller.signal }), (e: Error & { cancelled?: boolean }) => e.cancelled === true);
  onStatus = undefined;
  // Answered while the engine was still loading: no status after 'loading' had been published yet.
  assert.equal(statuses.at(-1)!.state, 'loading');
  /** How many times the queue started loading (entered the 'loading' state). */
  const loadsStarted = () => statuses.filter((s, i) => s.state === 'loading' && statuses[i - 1]?.state !== 'loading').length;
  const loadings = loadsStarted();
  const result = await queue.run(request(), {});
  assert.equal(result.task, 'caption');
  assert.equal(loadsStarted(), loadings, 'the cancelled job\'s load was kept, not redone');
  assert.ok(!statuses.some((s) => s.state === 'error'), JSON.stringify(statuses));
});

test('a cancel during a task is answered at once, and the queue goes on', { timeout: 120_000 }, async () => {
  const controller = new AbortController();
  let progressSeen = false;
  const run = queue.run(request(), { signal: controller.signal, onProgress: () => { if (!progressSeen) { progressSeen = true; controller.abort(); } } });
  await assert.rejects(run, (e: Error & { cancelled?: boolean }) => e.cancelled === true);
  assert.ok(progressSeen);
  assert.equal((await queue.run(request(), {})).task, 'caption');
});

test('a changed setting of the engine (here the K/V cache) loads it again before the next job; the same settings do not', { timeout: 120_000 }, async () => {
  await queue.run(request(), {});
  const loadsStarted = () => statuses.filter((s, i) => s.state === 'loading' && statuses[i - 1]?.state !== 'loading').length;
  const before = loadsStarted();
  queue.configure({ ...settings });
  await queue.run(request(), {});
  assert.equal(loadsStarted(), before, 'the same settings keep the loaded engine');
  assert.equal(statuses.at(-1)!.kvCache, 'float', 'auto keeps floats for a small model');
  queue.configure((settings = { ...settings, kvCache: 'int8' }));
  assert.equal((await queue.run(request(), {})).task, 'caption');
  assert.equal(loadsStarted(), before + 1, 'the 8-bit cache asked for loads the engine again');
  assert.equal(statuses.at(-1)!.kvCache, 'int8', 'the status says which cache the engine holds');
});
