/**
 * One full-attention layer's decode step against its cache at Qwen3.5-2B's shape (8 query
 * heads, 2 K/V heads of 256), float32 cache against int8 (graph/attention.ts): ms per
 * step and the output's error against a float64 computation over the float32 cache.
 * `node --import tsx test/bench/kvCacheKernels.ts [contexts…] [--json]`; part of `npm run bench -- kvcache`.
 */
import * as ort from 'onnxruntime-node';
import { dequantizeKv, int8PastScores, int8PastValues, quantizeKv } from '../../server/src/model/graph/attention';
import { DT, encodeModel, Graph } from '../../server/src/model/graph/onnxGraph';

const [kvHeads, group, headDim] = [2, 4, 256];

function model(int8: boolean): Uint8Array {
  const g = new Graph('past_attention', () => '');
  const q = g.input('q', DT.FLOAT, [1, kvHeads, group, headDim]);
  const cache = (name: string) => (int8
    ? { values: g.input(`${name}_values`, DT.UINT8, [1, kvHeads, 'past', headDim]), scales: g.input(`${name}_scales`, DT.FLOAT, [1, kvHeads, 'past', 1]) }
    : g.input(name, DT.FLOAT, [1, kvHeads, 'past', headDim]));
  const [key, value] = [cache('key'), cache('value')];
  const scale = g.constFloat([1 / Math.sqrt(headDim)], []);
  const swap = (x: string) => g.o('Transpose', [x], { perm: { ints: [0, 1, 3, 2] } });
  const scores = typeof key === 'string' ? swap(g.o('MatMul', [key, swap(q)])) : int8PastScores(g, q, group, key);
  const probs = g.o('Softmax', [g.o('Mul', [scores, scale])], { axis: { int: -1 } });
  const out = typeof value === 'string' ? g.o('MatMul', [probs, value]) : int8PastValues(g, probs, group, value);
  g.output('out', out, DT.FLOAT);
  return encodeModel(g);
}

/** Quantizes a float32 cache with the graph's own quantizeKv (so the bench measures what the decoder stores). */
async function quantizer(): Promise<ort.InferenceSession> {
  const g = new Graph('quantize', () => '');
  const kv = quantizeKv(g, g.input('x', DT.FLOAT, [1, kvHeads, 'n', headDim]));
  g.output('values', kv.values, DT.UINT8);
  g.output('scales', kv.scales, DT.FLOAT);
  g.output('dequantized', dequantizeKv(g, kv), DT.FLOAT);
  return ort.InferenceSession.create(encodeModel(g));
}

function reference(q: Float32Array, key: Float32Array, value: Float32Array, past: number): Float64Array {
  const out = new Float64Array(kvHeads * group * headDim);
  for (let h = 0; h < kvHeads; h++) {
    for (let r = 0; r < group; r++) {
      const qRow = (h * group + r) * headDim;
      const scores = new Float64Array(past);
      let max = -Infinity;
      for (let j = 0; j < past; j++) {
        let s = 0;
        const k = (h * past + j) * headDim;
        for (let d = 0; d < headDim; d++) s += q[qRow + d] * key[k + d];
        scores[j] = s / Math.sqrt(headDim);
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j < past; j++) sum += (scores[j] = Math.exp(scores[j] - max));
      for (let j = 0; j < past; j++) {
        const v = (h * past + j) * headDim;
        for (let d = 0; d < headDim; d++) out[qRow + d] += (scores[j] / sum) * value[v + d];
      }
    }
  }
  return out;
}

export interface KvKernelRow { past: number; fp32Ms: number; int8Ms: number; fp32Error: number; int8Error: number; scale: number }

export async function measureKvKernels(contexts: number[], repeats = 20): Promise<KvKernelRow[]> {
  let seed = 11;
  const normal = (n: number, sd: number) => Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const u = (seed + 1) / (2 ** 31 + 1);
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * (seed / 2 ** 31));
  });
  const [fp32, int8, quantize] = await Promise.all([ort.InferenceSession.create(model(false)), ort.InferenceSession.create(model(true)), quantizer()]);
  const rows: KvKernelRow[] = [];
  for (const past of contexts) {
    // Keys after q/k RMSNorm are ~unit per element; a sharper query (sd 2) makes attention peaked, not uniform.
    const q = normal(kvHeads * group * headDim, 2);
    const [key, value] = [normal(kvHeads * past * headDim, 1), normal(kvHeads * past * headDim, 1)];
    const dims = [1, kvHeads, past, headDim];
    const qk = async (x: Float32Array) => quantize.run({ x: new ort.Tensor('float32', x, dims) });
    const [kq, vq] = [await qk(key), await qk(value)];
    const feeds = {
      fp32: { q: new ort.Tensor('float32', q, [1, kvHeads, group, headDim]), key: new ort.Tensor('float32', key, dims), value: new ort.Tensor('float32', value, dims) },
      int8: { q: new ort.Tensor('float32', q, [1, kvHeads, group, headDim]), key_values: kq.values, key_scales: kq.scales, value_values: vq.values, value_scales: vq.scales },
    };
    const time = async (session: ort.InferenceSession, feed: Record<string, ort.Tensor>) => {
      const ms: number[] = [];
      let out: Float32Array = new Float32Array();
      for (let i = 0; i < repeats + 2; i++) {
        const started = performance.now();
        out = (await session.run(feed)).out.data as Float32Array;
        if (i >= 2) ms.push(performance.now() - started);
      }
      return { ms: ms.sort((a, b) => a - b)[ms.length >> 1], out };
    };
    // Alternate the two so that the machine's load falls on both alike.
    const a1 = await time(fp32, feeds.fp32);
    const b1 = await time(int8, feeds.int8);
    const a2 = await time(fp32, feeds.fp32);
    const b2 = await time(int8, feeds.int8);
    const expected = reference(q, key, value, past);
    const maxError = (got: Float32Array) => got.reduce((m, x, i) => Math.max(m, Math.abs(x - expected[i])), 0);
    rows.push({ past, fp32Ms: Math.min(a1.ms, a2.ms), int8Ms: Math.min(b1.ms, b2.ms), fp32Error: maxError(a1.out), int8Error: maxError(b1.out), scale: expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0) });
  }
  return rows;
}

if (require.main === module) {
  const json = process.argv.includes('--json');
  const contexts = process.argv.slice(2).filter((a) => a !== '--json').map(Number);
  measureKvKernels(contexts.length ? contexts : [512, 8192, 24576]).then((rows) => (json ? process.stdout.write(JSON.stringify(rows)) : console.table(rows)), (error) => { console.error(error); process.exitCode = 1; });
}
