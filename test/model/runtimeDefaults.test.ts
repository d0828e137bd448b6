/**
 * Defaults measured at the 2B size (docs/benchmarks.md), held here because a tiny checkpoint
 * cannot show them: every weight's cast must fold at load, decoding with the cache on the
 * device runs one token per run, and `--weights auto` quantizes large models on the CPU, and
 * `--kv-cache auto` their K/V cache.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LOOP_STEPS, defaultLoopSteps } from '../../server/src/model/runtime/engine';
import { graphTargetFor } from '../../server/src/model/runtime/providers';
import { foldLimitBytes, weightsFor } from '../../server/src/model/runtime/runtime';

test('the constant-folding limit admits every weight widened to float32 (the 2B tied embedding is 2.03 GB)', () => {
  const embeddingBf16 = 248_320 * 2048 * 2;
  const checkpointBf16 = 3.51 * 2 ** 30;
  const limit = foldLimitBytes(checkpointBf16);
  assert.ok(limit >= embeddingBf16 * 2, `limit ${limit} folds the float32 embedding (${embeddingBf16 * 2} bytes)`);
  assert.ok(limit > 2 ** 30, 'above ONNX Runtime\'s 1 GiB default, which left the embedding cast in every run');
  assert.equal(foldLimitBytes(1000), 2 ** 30, 'never below the default');
});

test('one run per token where the cache stays on the device; the Loop where it crosses to the host', () => {
  assert.equal(defaultLoopSteps({ deviceOutputs: 'device' }), 1);
  assert.equal(defaultLoopSteps({ deviceOutputs: 'host' }), DEFAULT_LOOP_STEPS);
  assert.ok(DEFAULT_LOOP_STEPS > 1);
});

test('weights auto: int8 on the CPU for a model of the 2B size, bf16 for small ones and on GPUs; an explicit choice wins', () => {
  const twoB = 4.1 * 2 ** 30;
  assert.equal(weightsFor('cpu', 'auto', twoB), 'int8');
  assert.equal(weightsFor('cpu', undefined, twoB), 'int8');
  assert.equal(weightsFor('cpu', 'auto', 600_000), 'bf16');
  assert.equal(weightsFor('cuda', 'auto', twoB), 'bf16');
  assert.equal(weightsFor('webgpu', 'auto', twoB), 'bf16');
  assert.equal(weightsFor('cpu', 'bf16', twoB), 'bf16');
  assert.equal(weightsFor('webgpu', 'int4', 600_000), 'int4');
});

test('kv-cache auto: 8 bits on the CPU for a model of the 2B size, floats for small ones, on GPUs and where the integer GEMM saturates; 8 bits there is refused in one line', () => {
  const twoB = 4.12 * 2 ** 30;
  const t = (ep: 'cpu' | 'webgpu' | 'cuda', kvCache: 'auto' | 'float' | 'int8' | undefined, weightsBytes: number, exactIntegerGemm?: boolean) => graphTargetFor(ep, { kvCache, weightsBytes, exactIntegerGemm });
  assert.equal(t('cpu', 'auto', twoB).kvCache, 'int8');
  assert.equal(t('cpu', 'auto', 600_000).kvCache, 'float');
  assert.equal(t('cpu', undefined, twoB).kvCache, 'int8');
  assert.equal(t('webgpu', 'auto', twoB).kvCache, 'float');
  assert.equal(t('cuda', 'auto', twoB).kvCache, 'float');
  assert.equal(t('cpu', 'float', twoB).kvCache, 'float');
  assert.equal(t('cpu', 'int8', 600_000).kvCache, 'int8');
  assert.deepEqual(t('webgpu', 'float', twoB), { attention: 'decomposed', int8: 'blockwise', kvCache: 'float' });
  assert.throws(() => t('webgpu', 'int8', twoB), /^Error: the 8-bit K\/V cache \(--kv-cache int8\) runs on the CPU only, not WebGPU; use --kv-cache auto or float$/);
  // A CPU whose integer GEMM saturates (x86 without VNNI): floats and MatMulNBits.
  assert.deepEqual(t('cpu', 'auto', twoB, false), { attention: 'fused', int8: 'blockwise', kvCache: 'float' });
  assert.deepEqual(t('cpu', 'auto', twoB, true), { attention: 'fused', int8: 'integer-gemm', kvCache: 'int8' });
  assert.throws(() => t('cpu', 'int8', twoB, false), /^Error: the 8-bit K\/V cache \(--kv-cache int8\) needs an integer GEMM that sums exactly, and this CPU's saturates \(x86 without VNNI\); use --kv-cache auto or float$/);
});
