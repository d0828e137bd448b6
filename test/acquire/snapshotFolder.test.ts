/**
 * A checkpoint folder made of symlinks — a Hugging Face cache snapshot as Python writes it
 * (files in blobs/, relative links in snapshots/<commit>/) — loads and generates exactly as
 * the plain folder does; links that lead nowhere, or to a folder, fail naming the file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { before, test } from 'node:test';
import { openCheckpoint } from '../../server/src/model/checkpoint/checkpoint';
import { readSafetensorsHeader, readTensorBytes, writeSafetensors } from '../../server/src/model/checkpoint/safetensors';
import { vscan } from '../helpers/cli';
import { tempDir } from '../helpers/videos';

let root: string;
let plain: string;

before(async () => {
  root = await tempDir('vscan-snapshot-');
  plain = join(root, 'tiny');
  const made = vscan(['model', 'tiny', plain, '--seed', '4']);
  assert.equal(made.code, 0, made.stderr);
});

/**
 * Moves every file of `folder` into `<repo>/blobs/<sha256>` and links it back from
 * `<repo>/snapshots/<commit>/` (relative links as Python makes them, or absolute ones).
 */
async function snapshotOf(folder: string, repo: string, style: 'relative' | 'absolute'): Promise<string> {
  const blobs = join(repo, 'blobs');
  const snapshot = join(repo, 'snapshots', '0123456789abcdef0123456789abcdef01234567');
  await mkdir(blobs, { recursive: true });
  await mkdir(snapshot, { recursive: true });
  for (const name of await readdir(folder)) {
    const content = await readFile(join(folder, name));
    const blob = join(blobs, createHash('sha256').update(content).digest('hex'));
    await writeFile(blob, content);
    await symlink(style === 'relative' ? relative(snapshot, blob) : blob, join(snapshot, name));
  }
  return snapshot;
}

function generate(model: string): { ids: number[] } {
  const result = vscan(['generate', '--model', model, '--prompt', 'what happens?', '--max-new-tokens', '6', '--ep', 'cpu', '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { ids: number[] };
}

test('a Python-style snapshot (relative symlinks into blobs/) generates what the plain folder does', async () => {
  const snapshot = await snapshotOf(plain, join(root, 'models--owner--tiny'), 'relative');
  const link = await import('node:fs/promises').then((fs) => fs.readlink(join(snapshot, 'model.safetensors')));
  assert.match(link, /^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
  assert.deepEqual(generate(snapshot).ids, generate(plain).ids);
});

test('a sharded snapshot of absolute symlinks loads; shard names still may not leave the folder', async () => {
  // Shard the tiny checkpoint, then make a snapshot of it whose links are absolute paths.
  const sharded = join(root, 'sharded');
  await mkdir(sharded);
  for (const name of await readdir(plain)) if (name !== 'model.safetensors') await writeFile(join(sharded, name), await readFile(join(plain, name)));
  const infos = await readSafetensorsHeader(join(plain, 'model.safetensors'));
  const tensors = await Promise.all(infos.map(async (t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: new Uint8Array(await readTensorBytes(t)) })));
  const weightMap: Record<string, string> = {};
  for (const [i, shard] of [tensors.slice(0, 20), tensors.slice(20)].entries()) {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(join(sharded, name), shard);
    for (const t of shard) weightMap[t.name] = name;
  }
  await writeFile(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const snapshot = await snapshotOf(sharded, join(root, 'models--owner--sharded'), 'absolute');
  const checkpoint = await openCheckpoint(snapshot);
  assert.equal(checkpoint.files.length, 2);
  assert.deepEqual(generate(snapshot).ids, generate(plain).ids);

  const index = join(snapshot, 'model.safetensors.index.json');
  await rm(index);
  await writeFile(index, JSON.stringify({ weight_map: { x: '../x.safetensors' } }));
  await assert.rejects(openCheckpoint(snapshot), /weight_map names "\.\.\/x\.safetensors", not a \.safetensors file in the checkpoint folder/);
});

test('a weight link that dangles, or leads to a folder, fails naming the file', async () => {
  const snapshot = await snapshotOf(plain, join(root, 'models--owner--broken'), 'relative');
  const weights = join(snapshot, 'model.safetensors');
  const blob = await import('node:fs/promises').then((fs) => fs.realpath(weights));
  await rename(blob, `${blob}.moved`);
  await assert.rejects(openCheckpoint(snapshot), (e: Error) => e.message === `${weights}: missing (or a symlink to a file that does not exist)`);
  await rm(weights);
  await symlink(root, weights);
  await assert.rejects(openCheckpoint(snapshot), (e: Error) => e.message === `${weights}: not a regular file`);
});
