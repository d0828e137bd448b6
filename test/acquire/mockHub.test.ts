/**
 * The mock Hub answers the way Python's huggingface_hub reads the real one (HEAD on
 * resolve without following redirects, then the file), so a test can point either client at it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type MockHub, startMockHub } from '../helpers/mockHub';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let hub: MockHub;
let tiny: string;

before(async () => {
  ({ tiny } = await tempTinyCheckpoint('vscan-mock-hub-', 8));
  await writeFile(join(tiny, 'README.md'), '# tiny\n');
  hub = await startMockHub([{ id: 'owner/tiny', dir: tiny, license: 'bsl-1.1' }]);
});

after(async () => {
  await hub.close();
});

test('HEAD resolve: LFS files redirect with X-Linked-Etag/Size, others answer with their git sha1 ETag; both name the commit', async () => {
  const commit = hub.commits.get('owner/tiny')!;
  const weights = await readFile(join(tiny, 'model.safetensors'));
  const lfs = await fetch(`${hub.url}/owner/tiny/resolve/main/model.safetensors`, { method: 'HEAD', redirect: 'manual' });
  assert.equal(lfs.status, 302);
  assert.equal(lfs.headers.get('x-repo-commit'), commit);
  assert.equal(lfs.headers.get('x-linked-etag'), `"${createHash('sha256').update(weights).digest('hex')}"`);
  assert.equal(lfs.headers.get('x-linked-size'), String(weights.length));
  const cdn = await fetch(lfs.headers.get('location')!, { headers: { Range: 'bytes=10-19' } });
  assert.equal(cdn.status, 206);
  assert.equal(cdn.headers.get('content-range'), `bytes 10-19/${weights.length}`);
  assert.deepEqual(Buffer.from(await cdn.arrayBuffer()), weights.subarray(10, 20));

  const readme = await readFile(join(tiny, 'README.md'));
  const plain = await fetch(`${hub.url}/owner/tiny/resolve/${commit}/README.md`, { method: 'HEAD', redirect: 'manual' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('etag'), `"${createHash('sha1').update(`blob ${readme.length}\0`).update(readme).digest('hex')}"`);
  assert.equal(plain.headers.get('x-repo-commit'), commit);
  assert.equal((await fetch(`${hub.url}/owner/tiny/resolve/main/nope.json`, { method: 'HEAD' })).headers.get('x-error-code'), 'EntryNotFound');
});

test('model info and the tree listing carry the commit, the card licence and LFS sha256 + sizes', async () => {
  const info = await (await fetch(`${hub.url}/api/models/owner/tiny/revision/main`)).json() as { sha: string; cardData: { license: string }; siblings: { rfilename: string }[] };
  assert.equal(info.sha, hub.commits.get('owner/tiny'));
  assert.equal(info.cardData.license, 'bsl-1.1');
  assert.ok(info.siblings.some((s) => s.rfilename === 'config.json'));
  const tree = await (await fetch(`${hub.url}/api/models/owner/tiny/tree/main?recursive=true`)).json() as { path: string; size: number; lfs?: { oid: string; size: number } }[];
  const weights = tree.find((e) => e.path === 'model.safetensors')!;
  assert.equal(weights.lfs?.size, weights.size);
  assert.match(weights.lfs!.oid, /^[0-9a-f]{64}$/);
  assert.equal(tree.find((e) => e.path === 'config.json')?.lfs, undefined);
});
