/**
 * videoScan/modelInfo and videoScan/downloadModel through the real server over stdio, with
 * the mock Hub; a caption on a Hub model not downloaded fails at once, and once downloaded
 * a job runs from the cached snapshot with the Hub unreachable (offline).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource, LSPErrorCodes, ProgressType, ResponseError,
  type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport,
} from 'vscode-languageserver-protocol/node';
import { CaptionRequest, DownloadModelRequest, FindRequest, ModelInfoRequest, StatusNotification, type StatusParams } from '../../server/src/lsp/protocol';
import { TestClient } from '../helpers/lspClient';
import { type MockHub, startMockHub } from '../helpers/mockHub';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { makeIndexVideo, tempDir } from '../helpers/videos';

const REPO = 'owner/tiny-scan';
let hub: MockHub;
let tiny: string;
let video: string;
let cache: string;
let client: TestClient;
const statuses: StatusParams[] = [];
const progress = new ProgressType<WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd>();

before(async () => {
  let dir: string;
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-model-requests-', 7));
  await writeFile(join(tiny, 'README.md'), '---\nlicense: bsl-1.1\n---\n');
  hub = await startMockHub([{ id: REPO, dir: tiny, license: 'bsl-1.1' }]);
  video = pathToFileURL(await makeIndexVideo(join(dir, 'clip.mkv'), 20, '32x24', 10)).href;
  cache = await tempDir('vscan-hf-cache-');
  // The server is a child process: it inherits these (this test file runs in its own process).
  Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '', HF_TOKEN: '' });
  client = await TestClient.start({ model: { checkpoint: REPO, executionProvider: 'cpu', maxNewTokens: 4 } });
  client.connection.onNotification(StatusNotification.method, (status: StatusParams) => { statuses.push(status); });
});

after(async () => {
  await client.stop();
  await hub.close();
});

test('modelInfo: a Hub model not downloaded, with its size and licence; a folder is ready', async () => {
  const info = await client.connection.sendRequest(ModelInfoRequest.type, {});
  assert.equal(info.spec, REPO);
  assert.equal(info.kind, 'hub');
  assert.equal(info.repo, REPO);
  assert.equal(info.revision, 'main');
  assert.equal(info.ready, false);
  assert.equal(info.license, 'bsl-1.1');
  assert.equal(info.licenseUrl, `${hub.url}/${REPO}`);
  assert.ok(info.totalBytes! > 600_000);
  assert.equal(info.downloadBytes, info.totalBytes);
  assert.deepEqual(await client.connection.sendRequest(ModelInfoRequest.type, { spec: tiny }), { spec: tiny, kind: 'folder', localDir: tiny, ready: true });
});

test('a caption on a Hub model not downloaded fails at once, saying so; nothing is downloaded', async () => {
  const before = hub.requests.length;
  await assert.rejects(client.connection.sendRequest(CaptionRequest.type, { video, workDoneToken: 'caption-not-downloaded' }), (e: unknown) =>
    e instanceof ResponseError && e.code === LSPErrorCodes.RequestFailed
    && e.message === `${REPO} is not downloaded (nothing cached in ${cache}): download it with "vscan model download ${REPO}" (or Download Model in VS Code)`
    && (e.data as { notDownloaded?: string }).notDownloaded === REPO);
  assert.deepEqual(hub.requests.slice(before), []);
  assert.ok(statuses.some((s) => s.state === 'error' && s.model === REPO), JSON.stringify(statuses));
});

test('downloadModel reports bytes, rate, time left and a percentage, and can be cancelled mid-file', async () => {
  // First attempt: the weights stall after 100,000 bytes; the client cancels on seeing them.
  hub.stallNext('model.safetensors', 100_000);
  const source = new CancellationTokenSource();
  client.connection.onProgress(progress, 'download-1', (value) => {
    if (value.kind === 'report' && value.message?.startsWith('model.safetensors: ')) source.cancel();
  });
  await assert.rejects(client.connection.sendRequest(DownloadModelRequest.type, { workDoneToken: 'download-1' }, source.token), (e: unknown) =>
    e instanceof ResponseError && e.code === LSPErrorCodes.RequestCancelled);
  const partly = await client.connection.sendRequest(ModelInfoRequest.type, {});
  assert.equal(partly.ready, false);
  assert.ok(partly.downloadBytes! < partly.totalBytes!, 'what arrived before the cancel is kept');

  // Second attempt: to the end.
  const events: (WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd)[] = [];
  client.connection.onProgress(progress, 'download-2', (value) => { events.push(value); });
  const info = await client.connection.sendRequest(DownloadModelRequest.type, { workDoneToken: 'download-2' });
  assert.equal(info.ready, true);
  assert.equal(info.localDir, join(cache, 'models--owner--tiny-scan', 'snapshots', hub.commits.get(REPO)!));
  assert.equal(events[0].kind, 'begin');
  assert.equal((events[0] as WorkDoneProgressBegin).cancellable, true);
  const reports = events.filter((e): e is WorkDoneProgressReport => e.kind === 'report');
  const last = reports[reports.length - 1];
  assert.equal(last.percentage, 100);
  assert.match(last.message!, /^model\.safetensors: [0-9.]+ KiB of [0-9.]+ KiB, [0-9.]+ [KMG]?i?B\/s, 0 s left$/);
  assert.ok(reports.every((r, i) => i === 0 || (r.percentage ?? 0) >= (reports[i - 1].percentage ?? 0)));
  // The progress ends before the answer is sent (same stream, in order).
  assert.equal(events[events.length - 1].kind, 'end');
});

test('a downloaded Hub model runs from the cache with the Hub unreachable (offline); the status names the spec', async () => {
  await hub.close();
  process.env.HF_HUB_OFFLINE = '1';
  const offline = await TestClient.start({ model: { checkpoint: REPO, executionProvider: 'cpu', maxNewTokens: 4 } });
  const seen: StatusParams[] = [];
  offline.connection.onNotification(StatusNotification.method, (status: StatusParams) => { seen.push(status); });
  try {
    const found = await offline.connection.sendRequest(FindRequest.type, { video, query: 'the counter shows one', workDoneToken: 'find-offline' });
    assert.equal(typeof found.format_ok, 'boolean');
    assert.ok(seen.some((s) => s.state === 'busy' && s.model === REPO), JSON.stringify(seen));
    const info = await offline.connection.sendRequest(ModelInfoRequest.type, {});
    assert.equal(info.ready, true);
  } finally {
    await offline.stop();
  }
});
