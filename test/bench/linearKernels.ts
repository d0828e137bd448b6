/**
 * The CPU kernels a linear layer could use, timed on one shape in one process, rounds
 * alternating (docs/benchmarks.md, "Where the time goes"): float32 MatMul (bf16 weights'
 * path), MatMulNBits 8-bit symmetric at accuracy_level 4 with blocks of 32 (int8's path) and
 * 128, and DynamicQuantizeMatMul (int8 weights per output column, activations quantized per
 * tensor: ONNX Runtime's u8×s8 integer GEMM). Random weights; activations uniform, with
 * every 64th column 30× larger (the outlier channels of trained LLMs' activations, which
 * per-tensor activation quantization handles worst). Prints each variant's median time, its
 * speed against float32 and its relative error ‖y − y_float32‖ / ‖y_float32‖.
 * `node --import tsx test/bench/linearKernels.ts M K N [rounds]`
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../../server/src/model/checkpoint/tiny';

const DT = onnx.TensorProto.DataType;
const MS = 'com.microsoft';

function model(nodes: onnx.INodeProto | onnx.INodeProto[], initializers: onnx.ITensorProto[], K: number): Uint8Array {
  const info = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 10, opsetImport: [{ domain: '', version: 21 }, { domain: MS, version: 1 }],
    graph: { name: 'linear', node: Array.isArray(nodes) ? nodes : [nodes], initializer: initializers, input: [info('x', ['M', K])], output: [info('y', ['M', 'N'])] },
  })).finish();
}

/**
 * Per-row (per-token) symmetric activation quantization in front of an integer GEMM: each
 * row's absmax → scale [M, 1]; the row divided by it and rounded to u8 around 128 (a scalar
 * zero point: ONNX Runtime's integer GEMMs take A's zero point per tensor only). `tail` turns
 * the u8 rows `xq` (with `rowScale`) into y.
 */
function perRow(tail: onnx.INodeProto[]): onnx.INodeProto[] {
  return [
    { opType: 'Abs', input: ['x'], output: ['abs'] },
    { opType: 'ReduceMax', input: ['abs', 'axes'], output: ['absmax'], attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
    { opType: 'Max', input: ['absmax', 'tiny'], output: ['range'] },
    { opType: 'Mul', input: ['range', 'inv127'], output: ['rowScale'] },
    { opType: 'Div', input: ['x', 'rowScale'], output: ['scaled'] },
    { opType: 'QuantizeLinear', input: ['scaled', 'one', 'zp128'], output: ['xq'] },
    ...tail,
  ];
}
const perRowConstants = (): onnx.ITensorProto[] => [
  { name: 'axes', dataType: DT.INT64, dims: [1], int64Data: [-1] },
  { name: 'tiny', dataType: DT.FLOAT, dims: [], floatData: [1e-30] },
  { name: 'inv127', dataType: DT.FLOAT, dims: [], floatData: [1 / 127] },
  { name: 'one', dataType: DT.FLOAT, dims: [], floatData: [1] },
  { name: 'zp128', dataType: DT.UINT8, dims: [], int32Data: [128] },
];

const tensor = (name: string, dataType: number, dims: number[], bytes: Uint8Array): onnx.ITensorProto => ({ name, dataType, dims, rawData: bytes });
const floats = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function variants(K: number, N: number): Record<string, Uint8Array> {
  const random = seededRandom(3);
  const w = Float32Array.from({ length: K * N }, () => random.uniform() - 0.5); // [K, N]
  const nbits = (block: number) => {
    const blocks = K / block;
    const data = new Uint8Array(N * K);
    const scales = new Float32Array(N * blocks);
    for (let n = 0; n < N; n++) for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let i = 0; i < block; i++) max = Math.max(max, Math.abs(w[(b * block + i) * N + n]));
      const scale = max / 127 || 1;
      scales[n * blocks + b] = scale;
      for (let i = 0; i < block; i++) data[(n * blocks + b) * block + i] = Math.round(w[(b * block + i) * N + n] / scale) + 128;
    }
    return model({ opType: 'MatMulNBits', domain: MS, input: ['x', 'w', 's'], output: ['y'], attribute: [
      { name: 'K', type: onnx.AttributeProto.AttributeType.INT, i: K }, { name: 'N', type: onnx.AttributeProto.AttributeType.INT, i: N },
      { name: 'bits', type: onnx.AttributeProto.AttributeType.INT, i: 8 }, { name: 'block_size', type: onnx.AttributeProto.AttributeType.INT, i: block },
      { name: 'accuracy_level', type: onnx.AttributeProto.AttributeType.INT, i: 4 }] },
    [tensor('w', DT.UINT8, [N, blocks, block], data), tensor('s', DT.FLOAT, [N * blocks], floats(scales))], K);
  };
  const colScale = new Float32Array(N);
  const q = new Int8Array(K * N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(w[k * N + n]));
    colScale[n] = max / 127 || 1;
    for (let k = 0; k < K; k++) q[k * N + n] = Math.round(w[k * N + n] / colScale[n]);
  }
  const wq = tensor('w', DT.INT8, [K, N], new Uint8Array(q.buffer));
  const cs = tensor('s', DT.FLOAT, [N], floats(colScale));
  return {
    'float32 MatMul': model({ opType: 'MatMul', input: ['x', 'w'], output: ['y'] }, [tensor('w', DT.FLOAT, [K, N], floats(w))], K),
    'MatMulNBits 8-bit b32 acc4': nbits(32),
    'DynamicQuantizeMatMul (per tensor)': model({ opType: 'DynamicQuantizeMatMul', domain: MS, input: ['x', 'w', 's'], output: ['y'] }, [wq, cs], K),
    'per row + MatMulIntegerToFloat': model(perRow([
      { opType: 'MatMulIntegerToFloat', domain: MS, input: ['xq', 'w', 'one', 's', 'zp128'], output: ['yc'] },
      { opType: 'Mul', input: ['yc', 'rowScale'], output: ['y'] },
    ]), [wq, cs, ...perRowConstants()], K),
    'per row + MatMulInteger, Cast, Mul': model(perRow([
      { opType: 'MatMulInteger', input: ['xq', 'w', 'zp128'], output: ['yi'] },
      { opType: 'Cast', input: ['yi'], output: ['yf'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DT.FLOAT }] },
      { opType: 'Mul', input: ['rowScale', 's'], output: ['outer'] },
      { opType: 'Mul', input: ['yf', 'outer'], output: ['y'] },
    ]), [wq, cs, ...perRowConstants()], K),
  };
}

/**
 * Activations: uniform, and either every 64th column 30× larger (outlier channels, as in
 * trained LLMs' activations) or every 64th row 100× larger (outlier tokens: the "massive
 * activations" some tokens carry), the case per-tensor quantization handles worst.
 */
function activations(M: number, K: number, outliers: 'channels' | 'tokens', seed: number): ort.Tensor {
  const random = seededRandom(seed);
  const factor = (i: number) => (outliers === 'channels' ? (i % K % 64 === 0 ? 30 : 1) : Math.floor(i / K) % 64 === 0 ? 100 : 1);
  return new ort.Tensor('float32', Float32Array.from({ length: M * K }, (_, i) => (random.uniform() - 0.5) * factor(i)), [M, K]);
}

async function main(): Promise<void> {
  const [M, K, N, rounds = 5] = process.argv.slice(2).map(Number);
  const sessions = await Promise.all(Object.entries(variants(K, N)).map(async ([name, bytes]) => [name, await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' })] as const));
  const x = activations(M, K, 'channels', 4);
  const outlierTokens = activations(M, K, 'tokens', 5);
  const times: Record<string, number[]> = {};
  const outputs: Record<string, Float32Array> = {};
  const tokenOutputs: Record<string, Float32Array> = {};
  for (const [name, session] of sessions) {
    outputs[name] = (await session.run({ x })).y.data as Float32Array; // warm-up
    tokenOutputs[name] = (await session.run({ x: outlierTokens })).y.data as Float32Array;
  }
  const relativeError = (y: Float32Array, reference: Float32Array) => {
    let difference = 0;
    let norm = 0;
    for (let i = 0; i < y.length; i++) { difference += (y[i] - reference[i]) ** 2; norm += reference[i] ** 2; }
    return +Math.sqrt(difference / norm).toExponential(2);
  };
  for (let round = 0; round < rounds; round++) {
    for (const [name, session] of sessions) {
      const started = performance.now();
      await session.run({ x });
      (times[name] ??= []).push(performance.now() - started);
    }
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
  const base = median(times['float32 MatMul']);
  const rows = Object.entries(times).map(([name, t]) => ({ name, medianMs: +median(t).toFixed(2), speedVsFloat32: +(base / median(t)).toFixed(2), gops: +((2 * M * K * N) / median(t) / 1e6).toFixed(0), relativeError: relativeError(outputs[name], outputs['float32 MatMul']), relativeErrorOutlierTokens: relativeError(tokenOutputs[name], tokenOutputs['float32 MatMul']) }));
  process.stdout.write(JSON.stringify({ M, K, N, rounds, rows }) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
