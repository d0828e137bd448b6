/**
 * The decode Loop's attention (blockDecodeAttention), which reads the cache the Loop started
 * from in place and carries only the Loop's own K/V, against ONNX Runtime's
 * GroupQueryAttention over the whole cache (the forward branch's kernel), on the CPU.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { blockDecodeAttention } from '../../server/src/model/graph/attention';
import { DT, encodeModel, Graph } from '../../server/src/model/graph/onnxGraph';

const [heads, kvHeads, headDim] = [8, 2, 32];
const scale = 1 / Math.sqrt(headDim);

function blockModel(): Uint8Array {
  const g = new Graph('block_attention', () => '');
  const [q, k, v] = ['q', 'k', 'v'].map((name, i) => g.input(name, DT.FLOAT, [1, 1, (i ? kvHeads : heads) * headDim]));
  const cache = (name: string, length: string) => g.input(name, DT.FLOAT, [1, kvHeads, length, headDim]);
  const out = blockDecodeAttention(g, { heads, kvHeads, headDim, scale }, q, k, v,
    { key: cache('start_key', 'past'), value: cache('start_value', 'past') }, { key: cache('block_key', 'n'), value: cache('block_value', 'n') }, DT.FLOAT);
  g.output('output', out.output, DT.FLOAT);
  g.output('block_key_out', out.blockKey as string, DT.FLOAT);
  g.output('block_value_out', out.blockValue as string, DT.FLOAT);
  return encodeModel(g);
}

function fusedModel(): Uint8Array {
  const g = new Graph('gqa', () => '');
  const [q, k, v] = ['q', 'k', 'v'].map((name, i) => g.input(name, DT.FLOAT, [1, 1, (i ? kvHeads : heads) * headDim]));
  const past = ['past_key', 'past_value'].map((name) => g.input(name, DT.FLOAT, [1, kvHeads, 'past', headDim]));
  const outputs = g.op('GroupQueryAttention', [q, k, v, ...past, g.input('seqlens_k', DT.INT32, [1]), g.input('total', DT.INT32, [])],
    { num_heads: { int: heads }, kv_num_heads: { int: kvHeads }, scale: { float: scale } }, { outputs: 3, domain: 'com.microsoft' });
  ['output', 'present_key', 'present_value'].forEach((name, i) => g.output(name, outputs[i], DT.FLOAT));
  return encodeModel(g);
}

/** [1, kv, a + b, dim] from [1, kv, a, dim] and [1, kv, b, dim]. */
function concatPositions(a: Float32Array, b: Float32Array, lengthA: number, lengthB: number): Float32Array {
  const out = new Float32Array(a.length + b.length);
  for (let h = 0; h < kvHeads; h++) {
    out.set(a.subarray(h * lengthA * headDim, (h + 1) * lengthA * headDim), h * (lengthA + lengthB) * headDim);
    out.set(b.subarray(h * lengthB * headDim, (h + 1) * lengthB * headDim), (h * (lengthA + lengthB) + lengthA) * headDim);
  }
  return out;
}

test('the decode Loop reads its starting cache in place and its own block: same output as GroupQueryAttention over the whole cache, block grown by the new token', async () => {
  const block = await ort.InferenceSession.create(blockModel());
  const fused = await ort.InferenceSession.create(fusedModel());
  let seed = 7;
  const random = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  for (const [past, n] of [[0, 0], [0, 3], [5, 0], [37, 4]]) {
    const [q, k, v] = [heads, kvHeads, kvHeads].map((h) => random(h * headDim));
    const [startKey, startValue] = [random(kvHeads * past * headDim), random(kvHeads * past * headDim)];
    const [blockKey, blockValue] = [random(kvHeads * n * headDim), random(kvHeads * n * headDim)];
    const got = await block.run({
      q: tensor(q, [1, 1, heads * headDim]), k: tensor(k, [1, 1, kvHeads * headDim]), v: tensor(v, [1, 1, kvHeads * headDim]),
      start_key: tensor(startKey, [1, kvHeads, past, headDim]), start_value: tensor(startValue, [1, kvHeads, past, headDim]),
      block_key: tensor(blockKey, [1, kvHeads, n, headDim]), block_value: tensor(blockValue, [1, kvHeads, n, headDim]),
    });
    const whole = past + n;
    const expected = await fused.run({
      q: tensor(q, [1, 1, heads * headDim]), k: tensor(k, [1, 1, kvHeads * headDim]), v: tensor(v, [1, 1, kvHeads * headDim]),
      past_key: tensor(concatPositions(startKey, blockKey, past, n), [1, kvHeads, whole, headDim]),
      past_value: tensor(concatPositions(startValue, blockValue, past, n), [1, kvHeads, whole, headDim]),
      seqlens_k: new ort.Tensor('int32', Int32Array.from([whole]), [1]), total: new ort.Tensor('int32', Int32Array.from([whole + 1]), []),
    });
    const label = `past ${past}, block ${n}`;
    assert.ok(maxDiff(got.output.data as Float32Array, expected.output.data as Float32Array) < 1e-6, `output, ${label}`);
    // The block grows by the new token only; the starting cache is not part of it.
    assert.deepEqual(got.block_key_out.dims, [1, kvHeads, n + 1, headDim], label);
    assert.deepEqual(got.block_key_out.data, concatPositions(blockKey, k, n, 1), `block key, ${label}`);
    assert.deepEqual(got.block_value_out.data, concatPositions(blockValue, v, n, 1), `block value, ${label}`);
  }
});
