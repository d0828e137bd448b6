/** videoScan/caption and videoScan/find over the real protocol, with the tiny checkpoint. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LSPErrorCodes, ProgressType, ResponseError, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageserver-protocol/node';
import { CaptionRequest, FindRequest, StatusNotification, type StatusParams } from '../../server/src/lsp/protocol';
import { TestClient } from '../helpers/lspClient';
import { makeIndexVideo } from '../helpers/videos';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let client: TestClient;
let dir: string;
let video: string;
const statuses: StatusParams[] = [];

before(async () => {
  let tiny: string;
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-lsp-tasks-', 3));
  video = pathToFileURL(await makeIndexVideo(join(dir, 'clip.mkv'), 30, '32x24', 10)).href;
  // fp16 on CPU: the precision setting travels from the client to the engine process.
  client = await TestClient.start({ model: { path: tiny, executionProvider: 'cpu', precision: 'fp16', maxNewTokens: 12 } });
  client.connection.onNotification(StatusNotification.method, (status: StatusParams) => { statuses.push(status); });
});

after(async () => {
  await client.stop();
});

const progress = new ProgressType<WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd>();

test('caption reports progress by stage, writes the .vscan and publishes engine status', async () => {
  const messages: string[] = [];
  client.connection.onProgress(progress, 'caption-1', (value) => { if ('message' in value && value.message) messages.push(value.message); });
  const result = await client.connection.sendRequest(CaptionRequest.type, { video, workDoneToken: 'caption-1' });
  assert.equal(fileURLToPath(result.file), join(dir, 'clip.vscan'));
  assert.match(await readFile(join(dir, 'clip.vscan'), 'utf8'), /^Video: clip\.mkv\n/);
  for (const stage of ['probing', 'decoding frames', 'encoding vision', 'generating tokens']) {
    assert.ok(messages.some((m) => m.startsWith(stage)), `${stage} in ${messages.join(' | ')}`);
  }
  assert.ok(statuses.some((s) => s.state === 'busy' && s.executionProvider === 'cpu' && s.precision === 'fp16'), JSON.stringify(statuses));
  assert.equal(statuses[statuses.length - 1].state, 'idle');
});

test('find answers a span or null', async () => {
  const result = await client.connection.sendRequest(FindRequest.type, { video, query: 'the counter shows two' });
  assert.equal(typeof result.format_ok, 'boolean');
  assert.ok(result.span === null || result.span.length === 2);
});

test('a cancelled caption answers RequestCancelled and the next job still runs', async () => {
  const { CancellationTokenSource } = await import('vscode-languageserver-protocol/node');
  const source = new CancellationTokenSource();
  client.connection.onProgress(progress, 'caption-2', (value) => { if (value.kind === 'report') source.cancel(); });
  await assert.rejects(client.connection.sendRequest(CaptionRequest.type, { video, workDoneToken: 'caption-2' }, source.token),
    (e: unknown) => e instanceof ResponseError && e.code === LSPErrorCodes.RequestCancelled);
  const next = await client.connection.sendRequest(FindRequest.type, { video, query: 'anything' });
  assert.equal(typeof next.format_ok, 'boolean');
});

test('without a model configured, the default Hub model is named and, not downloaded, the error says what to do', async () => {
  process.env.HF_HUB_CACHE = join(dir, 'empty-hf-cache'); // the server inherits it: nothing cached
  const bare = await TestClient.start();
  try {
    await assert.rejects(bare.connection.sendRequest(CaptionRequest.type, { video }),
      /cudabenchmarktest\/video-scan is not downloaded \(nothing cached in .*empty-hf-cache\): download it with "vscan model download cudabenchmarktest\/video-scan"/);
  } finally {
    await bare.stop();
  }
});

test('a long video is captioned in windows, one Scene block per window', async () => {
  const windowed = await TestClient.start({ model: { path: join(dir, 'tiny'), executionProvider: 'cpu', maxNewTokens: 4 }, video: { window: 1.5, overlap: 0.5 } });
  try {
    const result = await windowed.connection.sendRequest(CaptionRequest.type, { video });
    const text = await readFile(fileURLToPath(result.file), 'utf8');
    assert.deepEqual(text.match(/^Scene <[\d.]+ - [\d.]+>:/gm), ['Scene <0.0 - 1.5>:', 'Scene <1.0 - 2.5>:', 'Scene <2.0 - 3.0>:']);
  } finally {
    await windowed.stop();
  }
});
