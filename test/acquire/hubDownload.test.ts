/**
 * Downloading from the Hub into the Hugging Face cache, against the loopback mock Hub:
 * Python's cache layout, only the needed files, resume after a dropped connection,
 * corrupted bytes refused, private repos, and progress.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { findCachedSnapshot } from '../../server/src/model/acquire/hubCache';
import { HubError } from '../../server/src/model/acquire/hubClient';
import { downloadSnapshot, planDownload } from '../../server/src/model/acquire/hubDownload';
import type { TransferProgress } from '../../server/src/model/acquire/transferProgress';
import { type MockHub, startMockHub } from '../helpers/mockHub';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { tempDir } from '../helpers/videos';

let hub: MockHub;
let tiny: string;
const REPO = 'owner/tiny-scan';
const PRIVATE = 'owner/private-scan';

before(async () => {
  ({ tiny } = await tempTinyCheckpoint('vscan-hub-', 5));
  await writeFile(join(tiny, 'README.md'), '---\nlicense: bsl-1.1\n---\n# tiny\n');
  // Files the engine does not need: never fetched.
  await writeFile(join(tiny, 'notes.txt'), 'training notes');
  await mkdir(join(tiny, 'onnx'));
  await writeFile(join(tiny, 'onnx', 'model.onnx'), Buffer.alloc(4096, 7));
  hub = await startMockHub([
    { id: REPO, dir: tiny, license: 'bsl-1.1' },
    { id: PRIVATE, dir: tiny, license: 'other', private: true },
  ]);
});

after(async () => {
  await hub.close();
});

const options = async () => ({ endpoint: hub.url, cacheDir: await tempDir('vscan-hf-cache-') });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

test('the cache is laid out as Python lays it out, with only the files the engine needs', async () => {
  const opts = await options();
  const plan = await planDownload(REPO, 'main', opts);
  assert.equal(plan.commit, hub.commits.get(REPO));
  assert.equal(plan.license, 'bsl-1.1');
  assert.deepEqual(plan.files.map((f) => f.path).sort(), (await readdir(tiny)).filter((n) => n !== 'notes.txt' && n !== 'onnx').sort());
  assert.equal(plan.downloadBytes, plan.totalBytes);
  const seen: TransferProgress[] = [];
  const snapshot = await downloadSnapshot(plan, { ...opts, onProgress: (p) => seen.push(p) });

  const folder = join(opts.cacheDir, 'models--owner--tiny-scan');
  assert.equal(snapshot, join(folder, 'snapshots', plan.commit));
  assert.equal(await readFile(join(folder, 'refs', 'main'), 'utf8'), plan.commit);
  for (const name of await readdir(snapshot)) {
    const content = await readFile(join(tiny, name));
    // LFS files are stored under their sha256, the others under their git blob sha1 (the ETag).
    const etag = name.endsWith('.safetensors') ? sha256(content) : gitSha1(content);
    assert.ok((await lstat(join(snapshot, name))).isSymbolicLink(), name);
    assert.equal(await readlink(join(snapshot, name)), `../../blobs/${etag}`);
    assert.deepEqual(await readFile(join(folder, 'blobs', etag)), content);
  }
  assert.deepEqual((await readdir(join(folder, 'blobs'))).filter((n) => n.endsWith('.incomplete')), []);
  assert.deepEqual((await findCachedSnapshot(REPO, 'main', opts.cacheDir))?.missing, []);

  const last = seen[seen.length - 1];
  assert.equal(last.doneBytes, plan.totalBytes);
  assert.equal(last.totalBytes, plan.totalBytes);
  assert.ok(last.bytesPerSecond > 0);
  assert.ok(seen.every((p, i) => i === 0 || p.doneBytes >= seen[i - 1].doneBytes), 'progress never goes back');

  // Everything cached: a second plan has nothing to fetch, and the download makes no file request.
  const again = await planDownload(REPO, 'main', opts);
  assert.equal(again.downloadBytes, 0);
  const before = hub.requests.length;
  await downloadSnapshot(again, opts);
  assert.deepEqual(hub.requests.slice(before), []);
});

test('a download cut mid-file resumes from its .incomplete blob and ends byte-exact', async () => {
  const opts = await options();
  const weights = await readFile(join(tiny, 'model.safetensors'));
  const blob = join(opts.cacheDir, 'models--owner--tiny-scan', 'blobs', sha256(weights));
  hub.dropNext('model.safetensors', 200_000);
  const plan = await planDownload(REPO, 'main', opts);
  // The mock sends 200,000 bytes and closes; what reached the file before the error surfaced is kept (at most that).
  let kept = -1;
  await assert.rejects(downloadSnapshot(plan, opts), (e: Error) => {
    const match = new RegExp(`^${REPO}: model\\.safetensors: download interrupted after (\\d+) of ${weights.length} bytes \\(.+\\); run again to resume$`).exec(e.message);
    kept = Number(match?.[1]);
    return e instanceof HubError && match !== null && kept > 0 && kept <= 200_000;
  });
  assert.equal((await stat(`${blob}.incomplete`)).size, kept);

  const resumed = await planDownload(REPO, 'main', opts);
  assert.equal(resumed.files.find((f) => f.path === 'model.safetensors')?.cachedBytes, kept);
  assert.equal(resumed.downloadBytes, weights.length - kept);
  const from = hub.requests.length;
  await downloadSnapshot(resumed, opts);
  assert.ok(hub.requests.slice(from).some((r) => r.endsWith(`[bytes=${kept}-${weights.length - 1}]`)), hub.requests.slice(from).join('\n'));
  assert.deepEqual(await readFile(blob), weights);
  await assert.rejects(stat(`${blob}.incomplete`));
});

test('corrupted bytes are refused by their hash and never enter the cache', async () => {
  const opts = await options();
  const weights = await readFile(join(tiny, 'model.safetensors'));
  const config = await readFile(join(tiny, 'config.json'));
  const blobs = join(opts.cacheDir, 'models--owner--tiny-scan', 'blobs');
  hub.corruptNext('model.safetensors');
  const plan = await planDownload(REPO, 'main', opts);
  await assert.rejects(downloadSnapshot(plan, opts), (e: Error) =>
    e instanceof HubError && new RegExp(`^${REPO}: model\\.safetensors: sha256 [0-9a-f]{64} does not match the Hub's ${sha256(weights)}; the download was discarded, run again$`).test(e.message));
  assert.ok(!(await readdir(blobs)).some((n) => n.startsWith(sha256(weights))), 'no blob, no partial file');
  assert.deepEqual((await findCachedSnapshot(REPO, 'main', opts.cacheDir)), undefined, 'no ref before the snapshot is whole');
  // A small, non-LFS file is checked against its git blob sha1 (in a fresh cache: the first try fetched config.json whole).
  const fresh = await options();
  hub.corruptNext('config.json');
  await assert.rejects(downloadSnapshot(await planDownload(REPO, 'main', fresh), fresh), new RegExp(`config\\.json: git sha1 [0-9a-f]{40} does not match the Hub's ${gitSha1(config)}`));
  // Sound bytes on the next try.
  const snapshot = await downloadSnapshot(await planDownload(REPO, 'main', opts), opts);
  assert.deepEqual(await readFile(join(snapshot, 'model.safetensors')), weights);
});

test('a private repo answers 401 without a token: one line saying a token is needed; with it, the download works', async () => {
  const opts = await options();
  await assert.rejects(planDownload(PRIVATE, 'main', opts), (e: Error) =>
    e instanceof HubError && e.message === `${PRIVATE}@main: the Hub answered 401 (unauthorized): this repo needs a Hugging Face token (set HF_TOKEN or pass --token)`);
  await assert.rejects(planDownload(PRIVATE, 'main', { ...opts, token: 'hf_wrong' }), /needs a Hugging Face token .*; the token given was refused$/);
  const plan = await planDownload(PRIVATE, 'main', { ...opts, token: hub.token });
  const snapshot = await downloadSnapshot(plan, { ...opts, token: hub.token });
  assert.deepEqual((await findCachedSnapshot(PRIVATE, 'main', opts.cacheDir))?.missing, []);
  assert.ok(snapshot.includes('models--owner--private-scan'));
});

test('a revision or repo the Hub does not have, and a Hub that is not there, fail in one line', async () => {
  const opts = await options();
  await assert.rejects(planDownload(REPO, 'v9', opts), (e: Error) => e.message === `${REPO}@v9: not found on ${hub.url} (check the repo id and revision)`);
  const closed = await startMockHub([]);
  await closed.close();
  await assert.rejects(planDownload(REPO, 'main', { ...opts, endpoint: closed.url }), (e: Error) =>
    e instanceof HubError && e.message.startsWith(`${REPO}@main: cannot reach the Hub at ${closed.url} (ECONNREFUSED)`) && !e.message.includes('\n'));
});

test('cancelling keeps the partial file for the next run', async () => {
  const opts = await options();
  const controller = new AbortController();
  const plan = await planDownload(REPO, 'main', opts);
  await assert.rejects(downloadSnapshot(plan, { ...opts, signal: controller.signal, onProgress: (p) => { if (p.file === 'model.safetensors') controller.abort(); } }),
    (e: Error & { cancelled?: boolean }) => e.cancelled === true && /cancelled/.test(e.message));
  const next = await planDownload(REPO, 'main', opts);
  assert.ok(next.downloadBytes < plan.downloadBytes, 'what arrived is kept');
  await downloadSnapshot(next, opts);
});

test('a partial file that is already whole (stopped before its rename) is checked and renamed without a request', async () => {
  const opts = await options();
  const weights = await readFile(join(tiny, 'model.safetensors'));
  const blobs = join(opts.cacheDir, 'models--owner--tiny-scan', 'blobs');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, `${sha256(weights)}.incomplete`), weights);
  const plan = await planDownload(REPO, 'main', opts);
  assert.equal(plan.files.find((f) => f.path === 'model.safetensors')?.cachedBytes, weights.length);
  const from = hub.requests.length;
  await downloadSnapshot(plan, opts);
  assert.ok(!hub.requests.slice(from).some((r) => r.includes('model.safetensors') || r.includes(sha256(weights))), hub.requests.slice(from).join('\n'));
  assert.deepEqual(await readFile(join(blobs, sha256(weights))), weights);
});
