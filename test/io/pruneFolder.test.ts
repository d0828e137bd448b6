/** pruneFolder: a cache folder kept within its size, least recently used first, stale partial files gone. */
import assert from 'node:assert/strict';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pruneFolder } from '../../server/src/io/pruneFolder';
import { tempDir } from '../helpers/videos';

async function file(dir: string, name: string, bytes: number, usedSecondsAgo: number, now: number): Promise<void> {
  await writeFile(join(dir, name), Buffer.alloc(bytes));
  const at = (now - usedSecondsAgo * 1000) / 1000;
  await utimes(join(dir, name), at, at);
}

test('least recently used files go until the rest fits; newer ones and folders stay', async () => {
  const dir = await tempDir();
  const now = Date.now();
  await file(dir, 'old.mp4', 400, 300, now);
  await file(dir, 'middle.png', 300, 200, now);
  await file(dir, 'new.mp4', 500, 10, now);
  await mkdir(join(dir, 'a-folder'));
  const result = await pruneFolder(dir, 900, now);
  assert.deepEqual(result, { removed: 1, freedBytes: 400, keptBytes: 800 });
  assert.deepEqual((await readdir(dir)).sort(), ['a-folder', 'middle.png', 'new.mp4']);
  assert.deepEqual(await pruneFolder(dir, 900, now), { removed: 0, freedBytes: 0, keptBytes: 800 }, 'within the size: nothing goes');
});

test('a partial file an hour old goes whatever the size; a fresh one is never removed', async () => {
  const dir = await tempDir();
  const now = Date.now();
  await file(dir, 'x.mp4.123.partial', 10, 2 * 3600, now);
  await file(dir, 'y.png.456.partial', 5000, 5, now);
  await file(dir, 'z.png', 10, 5, now);
  const result = await pruneFolder(dir, 100, now);
  assert.equal(result.removed, 2, 'the stale partial and the finished file; the fresh partial may still be written');
  assert.deepEqual(await readdir(dir), ['y.png.456.partial']);
});

test('a folder that does not exist is nothing to prune', async () => {
  assert.deepEqual(await pruneFolder(join(await tempDir(), 'none'), 0), { removed: 0, freedBytes: 0, keptBytes: 0 });
});
