import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { filesOfShard, parseShard, shardKey, shardOf } from '../../server/src/library/shards';

const folder = '/videos';
const files = Array.from({ length: 3000 }, (_, i) => join(folder, `day${i % 7}`, `clip-${i}.mp4`));

test('--shard I/N: 0-based, I < N; anything else is one clear line', () => {
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  for (const bad of ['3/3', '-1/3', '1/0', 'a/b', '1', '1/5000']) assert.throws(() => parseShard(bad), /--shard is I\/N/);
});

test('every file is in exactly one shard; the shards\' union is the folder; shares are even', () => {
  const shards = [0, 1, 2].map((index) => filesOfShard(files, folder, { index, count: 3 }));
  assert.deepEqual(shards.flat().sort(), [...files].sort());
  assert.equal(new Set(shards.flat()).size, files.length);
  for (const shard of shards) assert.ok(Math.abs(shard.length - 1000) < 120, `shard of ${shard.length} files, expected about 1000`);
});

test('deterministic and stable under added files: a file\'s shard depends on its relative path alone', () => {
  const before = new Map(files.map((f) => [f, shardOf(shardKey(f, folder), 4)]));
  const more = [...files, ...Array.from({ length: 500 }, (_, i) => join(folder, 'new', `n${i}.mp4`))];
  for (const f of more.slice(0, files.length)) assert.equal(shardOf(shardKey(f, folder), 4), before.get(f));
  // The same folder mounted elsewhere splits the same way.
  assert.equal(shardOf(shardKey('/mnt/x/day1/clip-8.mp4', '/mnt/x'), 4), before.get(join(folder, 'day1', 'clip-8.mp4')));
});

test('going from N to N+1 shards moves only the files the new shard takes (about 1/(N+1))', () => {
  let moved = 0;
  for (const f of files) {
    const from = shardOf(shardKey(f, folder), 4);
    const to = shardOf(shardKey(f, folder), 5);
    if (from !== to) {
      moved++;
      assert.equal(to, 4, 'a file only ever moves to the new shard');
    }
  }
  assert.ok(moved > files.length * 0.15 && moved < files.length * 0.25, `${moved} of ${files.length} moved`);
});
