/**
 * The decode Loop's attention (blockDecodeAttention), which reads the cache the Loop started
 * from in place and carries only the Loop's own K/V, against ONNX Runtime's
 * GroupQueryAttention over the whole cache (the forward branch's kernel), on the CPU; with a
 * float cache and with the 8-bit one (values and a scale per head and token).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { blockDecodeAttention, dequantizeKv, type Int8Kv, quantizeKv } from '../../server/src/model/graph/attention';
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

/** The Loop's attention over an 8-bit starting cache and an 8-bit block. */
function int8BlockModel(): Uint8Array {
  const g = new Graph('int8_block_attention', () => '');
  const [q, k, v] = ['q', 'k', 'v'].map((name, i) => g.input(name, DT.FLOAT, [1, 1, (i ? kvHeads : heads) * headDim]));
  const cache = (name: string, length: string): Int8Kv => ({ values: g.input(`${name}_values`, DT.UINT8, [1, kvHeads, length, headDim]), scales: g.input(`${name}_scales`, DT.FLOAT, [1, kvHeads, length, 1]) });
  const out = blockDecodeAttention(g, { heads, kvHeads, headDim, scale }, q, k, v,
    { key: cache('start_key', 'past'), value: cache('start_value', 'past') }, { key: cache('block_key', 'n'), value: cache('block_value', 'n') }, DT.FLOAT);
  g.output('output', out.output, DT.FLOAT);
  const [blockKey, blockValue] = [out.blockKey as Int8Kv, out.blockValue as Int8Kv];
  g.output('block_key_values_out', blockKey.values, DT.UINT8);
  g.output('block_key_scales_out', blockKey.scales, DT.FLOAT);
  g.output('block_value_values_out', blockValue.values, DT.UINT8);
  g.output('block_value_scales_out', blockValue.scales, DT.FLOAT);
  return encodeModel(g);
}

/** quantizeKv and dequantizeKv as the decoder uses them, on [1, kv, n, dim]. */
function quantizerModel(): Uint8Array {
  const g = new Graph('kv_quantizer', () => '');
  const kv = quantizeKv(g, g.input('x', DT.FLOAT, [1, kvHeads, 'n', headDim]));
  g.output('values', kv.values, DT.UINT8);
  g.output('scales', kv.scales, DT.FLOAT);
  g.output('dequantized', dequantizeKv(g, kv), DT.FLOAT);
  return encodeModel(g);
}

test('the 8-bit cache: round(x / scale) + 128 with scale = max|x| / 127 per head and token, read back within half a step; zero tokens stay zero', async () => {
  const session = await ort.InferenceSession.create(quantizerModel());
  const n = 5;
  let seed = 3;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  // Tokens of very different sizes (one all zero), so that a scale read from the wrong token shows.
  const sizes = [1, 100, 0, 0.01, 7];
  const x = Float32Array.from({ length: kvHeads * n * headDim }, (_, i) => sizes[Math.floor(i / headDim) % n] * random());
  const out = await session.run({ x: new ort.Tensor('float32', x, [1, kvHeads, n, headDim]) });
  const [values, scales, back] = [out.values.data as Uint8Array, out.scales.data as Float32Array, out.dequantized.data as Float32Array];
  assert.deepEqual(out.scales.dims, [1, kvHeads, n, 1]);
  for (let row = 0; row < kvHeads * n; row++) {
    const slice = x.subarray(row * headDim, (row + 1) * headDim);
    const max = slice.reduce((m, value) => Math.max(m, Math.abs(value)), 0);
    if (max === 0) {
      assert.ok(back.subarray(row * headDim, (row + 1) * headDim).every((value) => value === 0), `row ${row}: zeros`);
      continue;
    }
    assert.ok(Math.abs(scales[row] - max / 127) <= 1e-6 * max, `row ${row}: scale ${scales[row]} for max ${max}`);
    for (let d = 0; d < headDim; d++) {
      const i = row * headDim + d;
      assert.equal(values[i], Math.round(x[i] / scales[row]) + 128, `value ${i}`);
      assert.ok(Math.abs(back[i] - x[i]) <= scales[row] * 0.5001, `read back ${i}: ${back[i]} for ${x[i]}`);
    }
  }
});

test('the decode Loop over an 8-bit cache: the output GroupQueryAttention gives on the same 8-bit K/V read back, the block grown by the new token quantized', async () => {
  const block = await ort.InferenceSession.create(int8BlockModel());
  const fused = await ort.InferenceSession.create(fusedModel());
  const quantizer = await ort.InferenceSession.create(quantizerModel());
  let seed = 5;
  const random = (n: number, size = 1) => Float32Array.from({ length: n }, () => size * (((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5));
  const quantize = async (x: Float32Array, length: number) => {
    if (length === 0) return { values: new Uint8Array(), scales: new Float32Array(), back: new Float32Array() };
    const out = await quantizer.run({ x: new ort.Tensor('float32', x, [1, kvHeads, length, headDim]) });
    return { values: out.values.data as Uint8Array, scales: out.scales.data as Float32Array, back: out.dequantized.data as Float32Array };
  };
  /** Tokens whose sizes differ by 1000×, so that a scale applied to the wrong token moves the output. */
  const cacheOf = async (length: number) => {
    const x = new Float32Array(kvHeads * length * headDim);
    for (let row = 0; row < kvHeads * length; row++) x.set(random(headDim, 10 ** (3 * (((row * 7) % 5) / 4) - 1.5)), row * headDim);
    return quantize(x, length);
  };
  const int8 = (values: Uint8Array, length: number) => new ort.Tensor('uint8', values, [1, kvHeads, length, headDim]);
  const scales = (data: Float32Array, length: number) => new ort.Tensor('float32', data, [1, kvHeads, length, 1]);
  const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  for (const [past, n] of [[0, 0], [0, 3], [5, 0], [37, 4]]) {
    const [q, k, v] = [random(heads * headDim, 4), random(kvHeads * headDim), random(kvHeads * headDim)];
    const [startKey, startValue, blockKey, blockValue] = [await cacheOf(past), await cacheOf(past), await cacheOf(n), await cacheOf(n)];
    const got = await block.run({
      q: tensor(q, [1, 1, heads * headDim]), k: tensor(k, [1, 1, kvHeads * headDim]), v: tensor(v, [1, 1, kvHeads * headDim]),
      start_key_values: int8(startKey.values, past), start_key_scales: scales(startKey.scales, past),
      start_value_values: int8(startValue.values, past), start_value_scales: scales(startValue.scales, past),
      block_key_values: int8(blockKey.values, n), block_key_scales: scales(blockKey.scales, n),
      block_value_values: int8(blockValue.values, n), block_value_scales: scales(blockValue.scales, n),
    });
    const [newKey, newValue] = [await quantize(k, 1), await quantize(v, 1)];
    const whole = past + n;
    const expected = await fused.run({
      q: tensor(q, [1, 1, heads * headDim]), k: tensor(newKey.back, [1, 1, kvHeads * headDim]), v: tensor(newValue.back, [1, 1, kvHeads * headDim]),
      past_key: tensor(concatPositions(startKey.back, blockKey.back, past, n), [1, kvHeads, whole, headDim]),
      past_value: tensor(concatPositions(startValue.back, blockValue.back, past, n), [1, kvHeads, whole, headDim]),
      seqlens_k: new ort.Tensor('int32', Int32Array.from([whole]), [1]), total: new ort.Tensor('int32', Int32Array.from([whole + 1]), []),
    });
    const label = `past ${past}, block ${n}`;
    const [ours, theirs] = [got.output.data as Float32Array, expected.output.data as Float32Array];
    const size = theirs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    // Only the 15-bit split of the query and of the weights differs from reading the K/V back as floats.
    const diff = ours.reduce((m, x, i) => Math.max(m, Math.abs(x - theirs[i])), 0);
    assert.ok(diff <= 1e-4 * size, `output, ${label}: ${diff} of ${size}`);
    const grown = (a: Uint8Array | Float32Array, b: Uint8Array | Float32Array, width: number) => {
      const out = a instanceof Uint8Array ? new Uint8Array(a.length + b.length) : new Float32Array(a.length + b.length);
      for (let h = 0; h < kvHeads; h++) {
        out.set(a.subarray(h * n * width, (h + 1) * n * width), h * (n + 1) * width);
        out.set(b.subarray(h * width, (h + 1) * width), (h * (n + 1) + n) * width);
      }
      return out;
    };
    assert.deepEqual(got.block_key_values_out.dims, [1, kvHeads, n + 1, headDim], label);
    assert.deepEqual(got.block_key_values_out.data, grown(blockKey.values, newKey.values, headDim), `block key, ${label}`);
    assert.deepEqual(got.block_key_scales_out.data, grown(blockKey.scales, newKey.scales, 1), `block key scales, ${label}`);
    assert.deepEqual(got.block_value_values_out.data, grown(blockValue.values, newValue.values, headDim), `block value, ${label}`);
    assert.deepEqual(got.block_value_scales_out.data, grown(blockValue.scales, newValue.scales, 1), `block value scales, ${label}`);
  }
});
