/**
 * Whether this CPU's integer GEMM (ONNX Runtime's `MatMulIntegerToFloat`, MLAS's u8 × s8
 * kernels) sums its products exactly. MLAS's x86 kernels without VNNI (AVX2, AVX-512 BW)
 * multiply with `vpmaddubsw`, which adds each pair of u8 × s8 products in 16-bit saturating
 * arithmetic: activations quantized around a zero point of 128 against weights near ±127
 * reach 2 · 255 · 127 = 64,770 > 32,767 and clip. int8 weights through the integer GEMM
 * would then be silently wrong, so the CPU's int8 falls back to MatMulNBits there
 * (runtime.ts). MLAS picks its kernel from the CPU on its own, on every platform, so this
 * asks the kernel itself, once per process, rather than reading CPU flags.
 */
import * as ort from 'onnxruntime-node';
import { DT, encodeModel, Graph } from '../graph/onnxGraph';

/** Length of the probe's dot product: 32 saturating pairs, far from any rounding question. */
const K = 64;

/** One row of 255s (127 above the zero point) against a column of +127s and one of −127s. */
function probeModel(): Uint8Array {
  const graph = new Graph('integer_gemm_probe');
  const a = graph.input('a', DT.UINT8, [1, K]);
  const b = 'b';
  const weights = new Int8Array(K * 2);
  for (let k = 0; k < K; k++) [weights[2 * k], weights[2 * k + 1]] = [127, -127];
  graph.initializers.push({ name: b, dataType: DT.INT8, dims: [K, 2], rawData: new Uint8Array(weights.buffer) });
  const zero = 'a_zero';
  graph.initializers.push({ name: zero, dataType: DT.UINT8, dims: [], int32Data: [128] });
  const y = graph.o('MatMulIntegerToFloat', [a, b, graph.constFloat([1], []), graph.constFloat([1, 1]), zero], {}, 'com.microsoft');
  graph.output('y', y, DT.FLOAT, [1, 2]);
  return encodeModel(graph);
}

let answer: Promise<boolean> | undefined;

/** True where u8 × s8 products sum exactly (VNNI, ARM); false where they saturate. */
export function integerGemmIsExact(): Promise<boolean> {
  answer ??= (async () => {
    // Pre-packed, as the real graphs' weights are (runtime.ts QUANTIZED_SESSION).
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['cpu'], extra: { session: { disable_prepacking: '0' } } });
    try {
      const { y } = await session.run({ a: new ort.Tensor('uint8', new Uint8Array(K).fill(255), [1, K]) });
      const exact = K * 127 * 127;
      const [plus, minus] = y.data as Float32Array;
      return plus === exact && minus === -exact;
    } finally {
      await session.release();
    }
  })();
  return answer;
}
