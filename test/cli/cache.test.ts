/**
 * `vscan cache list|clean` (issue 11): the graph cache's hard links pin a deleted
 * checkpoint's weights; list shows it, clean frees it and leaves live entries and anything
 * that is not an entry alone.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeBytes } from '../../server/src/io/regularFile';
import type { GraphCacheEntry } from '../../server/src/model/runtime/graphCache';
import { TextEngine } from '../../server/src/model/runtime/engine';
import { vscan } from '../helpers/cli';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

function list(cache: string): GraphCacheEntry[] {
  const result = vscan(['cache', 'list', '--json', '--dir', cache]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as GraphCacheEntry[];
}

test('cache list shows entries and the bytes stale ones pin; clean removes only those, --all every entry', { timeout: 180_000 }, async () => {
  const a = await tempTinyCheckpoint('vscan-cache-a-', 1);
  const b = await tempTinyCheckpoint('vscan-cache-b-', 2);
  const cache = join(a.dir, 'cache');
  for (const dir of [a.tiny, b.tiny]) await TextEngine.load(dir, { executionProvider: 'cpu', cacheDir: cache });
  // Not entries: left alone whatever happens.
  await mkdir(join(cache, 'my-notes'));
  await symlink(a.tiny, join(cache, 'text-model-0123456789abcdef'));

  let entries = list(cache);
  assert.deepEqual(entries.map((e) => [e.checkpoint, e.state, e.pinnedBytes]).sort(), [[a.tiny, 'live', 0], [b.tiny, 'live', 0]].sort());
  assert.ok(entries.every((e) => e.graphBytes > 0));

  // Deleting checkpoint b leaves its weights alive through the cache's hard link.
  const bWeights = (await stat(join(b.tiny, 'model.safetensors'))).size;
  await rm(b.tiny, { recursive: true });
  entries = list(cache);
  const stale = entries.find((e) => e.checkpoint === b.tiny)!;
  assert.equal(stale.state, 'stale');
  assert.equal(stale.pinnedBytes, bWeights);
  const text = vscan(['cache', 'list', '--dir', cache]);
  assert.match(text.stdout, new RegExp(`2 entries in .*; ${describeBytes(bWeights).replace('.', '\\.')} pinned by stale entries \\(vscan cache clean frees it\\)`));

  const cleaned = vscan(['cache', 'clean', '--dir', cache]);
  assert.equal(cleaned.code, 0, cleaned.stderr);
  assert.match(cleaned.stdout, /^removed 1 entries from .*, freeing .* \(stale entries only; --all removes every entry\)\n$/);
  assert.deepEqual(list(cache).map((e) => e.checkpoint), [a.tiny]);

  // A replaced checkpoint file (a new download) makes the old link stale too.
  await rm(join(a.tiny, 'model.safetensors'));
  await writeFile(join(a.tiny, 'model.safetensors'), 'replaced');
  assert.equal(list(cache)[0].state, 'stale');

  assert.equal(vscan(['cache', 'clean', '--all', '--dir', cache]).code, 0);
  assert.deepEqual(list(cache), []);
  await stat(join(cache, 'my-notes'));
  await stat(join(cache, 'text-model-0123456789abcdef')); // a link, never followed nor removed
  assert.equal(vscan(['cache', 'list', '--all', '--dir', cache]).code, 2);
});
