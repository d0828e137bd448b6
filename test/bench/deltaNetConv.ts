/**
 * The DeltaNet layers' causal depthwise convolution with SiLU, two ways, on one shape in one
 * process, rounds alternating (docs/benchmarks.md, "The DeltaNet convolution in prefill"):
 * ONNX Runtime's CausalConvWithState contrib operator, and a grouped Conv over the state and
 * the inputs joined, then x·sigmoid(x), the state being the joined input's last kernel−1
 * columns. Both read x [1, T, C] as the in_proj_qkv layer makes it (a Transpose to
 * [1, C, T] and back, as the decoder does). Prints the median times and the largest
 * difference between the two outputs and between the two states.
 * `node --import tsx test/bench/deltaNetConv.ts [T] [C] [rounds]`
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../../server/src/model/checkpoint/tiny';

const DT = onnx.TensorProto.DataType;
const KERNEL = 4;

function info(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } };
}

function model(channels: number, conv: onnx.INodeProto[], weight: Float32Array): Uint8Array {
  const transpose = (input: string, output: string): onnx.INodeProto => ({ opType: 'Transpose', input: [input], output: [output], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] }] });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 10, opsetImport: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'conv',
      node: [transpose('x', 'xt'), ...conv, transpose('yt', 'y')],
      initializer: [
        { name: 'w', dataType: DT.FLOAT, dims: [channels, 1, KERNEL], rawData: new Uint8Array(weight.buffer) },
        { name: 'bias', dataType: DT.FLOAT, dims: [channels], rawData: new Uint8Array(new Float32Array(channels).buffer) },
        { name: 'from', dataType: DT.INT64, dims: [1], int64Data: [1 - KERNEL] },
        { name: 'to', dataType: DT.INT64, dims: [1], int64Data: [2147483647] },
        { name: 'axis', dataType: DT.INT64, dims: [1], int64Data: [2] },
      ],
      input: [info('x', [1, 'T', channels]), info('state', [1, channels, KERNEL - 1])],
      output: [info('y', [1, 'T', channels]), info('next_state', [1, channels, KERNEL - 1])],
    },
  })).finish();
}

const INT = onnx.AttributeProto.AttributeType.INT;
const contrib = (): onnx.INodeProto[] => [
  { opType: 'CausalConvWithState', domain: 'com.microsoft', input: ['xt', 'w', 'bias', 'state'], output: ['yt', 'next_state'], attribute: [{ name: 'activation', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('silu') }] },
];
const grouped = (channels: number): onnx.INodeProto[] => [
  { opType: 'Concat', input: ['state', 'xt'], output: ['joined'], attribute: [{ name: 'axis', type: INT, i: 2 }] },
  { opType: 'Conv', input: ['joined', 'w'], output: ['c'], attribute: [{ name: 'group', type: INT, i: channels }, { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [KERNEL] }] },
  { opType: 'Sigmoid', input: ['c'], output: ['s'] },
  { opType: 'Mul', input: ['c', 's'], output: ['yt'] },
  { opType: 'Slice', input: ['joined', 'from', 'to', 'axis'], output: ['next_state'] },
];

async function main(): Promise<void> {
  const [T = 2048, C = 6144, rounds = 7] = process.argv.slice(2).map(Number);
  const random = seededRandom(5);
  const uniform = (n: number) => Float32Array.from({ length: n }, () => random.uniform() - 0.5);
  const weight = uniform(C * KERNEL);
  const feeds = { x: new ort.Tensor('float32', uniform(T * C), [1, T, C]), state: new ort.Tensor('float32', uniform(C * (KERNEL - 1)), [1, C, KERNEL - 1]) };
  const variants = [['CausalConvWithState', contrib], ['Conv over [state, x], then SiLU', grouped]] as const;
  const sessions = await Promise.all(variants.map(([, nodes]) => ort.InferenceSession.create(model(C, nodes(C), weight), { logSeverityLevel: 3 })));
  const times: number[][] = variants.map(() => []);
  const outputs: Record<string, ort.Tensor>[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, session] of sessions.entries()) {
      const started = performance.now();
      outputs[i] = await session.run(feeds);
      times[i]!.push(performance.now() - started);
    }
  }
  const largest = (name: string) => {
    const [a, b] = [outputs[0]![name]!.data as Float32Array, outputs[1]![name]!.data as Float32Array];
    return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
  };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  process.stdout.write(JSON.stringify({ T, C, rounds, rows: variants.map(([name], i) => ({ name, medianMs: median(times[i]!) })), maxOutputDifference: largest('y'), maxStateDifference: largest('next_state') }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
