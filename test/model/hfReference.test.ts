/**
 * The folder handed to test/device/hf_reference.py (transformers on a PyTorch machine): what
 * `prepare` writes is small, well formed and right (our logits in it match the float64
 * reference), and `compare` reports each variant, including missing or failed ones.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { decodeNpy, writeNpy } from '../../server/src/io/npy';
import { openCheckpoint } from '../../server/src/model/checkpoint/checkpoint';
import { compareHfReference, HF_VARIANTS, hfPositions, prepareHfReference } from '../device/hfReference';
import { loadWeights, maxDifference, referenceForward } from '../helpers/referenceModel';
import { tempDir } from '../helpers/videos';

let folder: string;

before(async () => {
  folder = await tempDir('vscan-hf-reference-');
  await prepareHfReference(folder, () => {});
});

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    total += entry.isDirectory() ? await folderBytes(join(dir, entry.name)) : (await stat(join(dir, entry.name))).size;
  }
  return total;
}

test('prepare writes each variant\'s checkpoint, inputs and our logits, a few MB in all, our logits matching the float64 reference', async () => {
  const bytes = await folderBytes(folder);
  assert.ok(bytes < 6 * 2 ** 20, `${bytes} bytes`);
  const manifest = JSON.parse(await readFile(join(folder, 'variants.json'), 'utf8'));
  assert.deepEqual(manifest.variants.map((v: { name: string }) => v.name), HF_VARIANTS.map((v) => v.name));
  const { ids, positions } = hfPositions();
  for (const { name } of HF_VARIANTS) {
    const dir = join(folder, name);
    const inputIds = decodeNpy(await readFile(join(dir, 'input_ids.npy')));
    const positionIds = decodeNpy(await readFile(join(dir, 'position_ids.npy')));
    const logits = decodeNpy(await readFile(join(dir, 'logits_ours.npy')));
    assert.deepEqual([inputIds.shape, positionIds.shape], [[1, ids.length], [3, 1, ids.length]], name);
    assert.deepEqual(Array.from(positionIds.data as BigInt64Array, Number), positions.flat(), name);
    const checkpoint = await openCheckpoint(join(dir, 'checkpoint'));
    assert.deepEqual(logits.shape, [1, ids.length, checkpoint.config.text.vocabSize], name);
    const reference = referenceForward(checkpoint, await loadWeights(checkpoint), ids, positions);
    const diff = maxDifference(reference, logits.data as Float32Array);
    assert.ok(diff < 1e-3, `${name}: max |Δlogit| ${diff}`);
  }
  const noHeadDim = await openCheckpoint(join(folder, 'no-head-dim', 'checkpoint'));
  assert.deepEqual([noHeadDim.config.text.headDim, noHeadDim.config.text.ropeTheta], [256, 10_000]);
});

test('compare reports max |Δlogit| per variant, and says which side is missing or failed', async () => {
  const ours = (name: string) => readFile(join(folder, name, 'logits_ours.npy')).then((bytes) => decodeNpy(bytes));
  // default: transformers' logits a hair away from ours; attention-bias: transformers failed;
  // no-head-dim: a wrong shape; the rest: never run.
  const near = await ours('default');
  const shifted = Float32Array.from(near.data as Float32Array, (v) => v + 2e-5);
  await writeNpy(join(folder, 'default', 'logits_hf.npy'), { dtype: 'float32', data: shifted, shape: near.shape });
  await writeFile(join(folder, 'attention-bias', 'error_hf.txt'), 'Traceback (most recent call last):\nValueError: missing weights [\'x\']\n');
  await writeNpy(join(folder, 'no-head-dim', 'logits_hf.npy'), { dtype: 'float32', data: new Float32Array(3), shape: [3] });
  const results = new Map((await compareHfReference(folder)).map((result) => [result.name, result]));
  const close = results.get('default')!;
  assert.ok(close.maxAbsDiff! > 1e-5 && close.maxAbsDiff! < 3e-5, String(close.maxAbsDiff));
  assert.equal(close.argmaxAgrees, true);
  assert.equal(results.get('attention-bias')!.problem, 'transformers failed: ValueError: missing weights [\'x\']');
  assert.match(results.get('no-head-dim')!.problem!, /logits_hf\.npy holds 3 logits, ours \d+/);
  assert.match(results.get('mha-bias')!.problem!, /mha-bias\/logits_hf\.npy is missing \(run hf_reference\.py/);
});
