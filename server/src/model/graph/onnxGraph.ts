/**
 * A small builder for ONNX graphs (onnx-proto messages): named values, nodes, constants,
 * and weights referenced where they lie in the safetensors files (ONNX external data:
 * file, offset, length), never re-encoded into the model.
 */
import { onnx } from 'onnx-proto';
import type { TensorInfo } from '../checkpoint/safetensors';
import type { LinearRole, QuantizedWeights, QuantLayout } from './quantizedWeights';

export const DT = onnx.TensorProto.DataType;

export type Attr =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { floats: number[] }
  | { string: string }
  | { graph: onnx.IGraphProto };

function attribute(name: string, value: Attr): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: A.INT, i: value.int };
  if ('ints' in value) return { name, type: A.INTS, ints: value.ints };
  if ('float' in value) return { name, type: A.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  if ('string' in value) return { name, type: A.STRING, s: new TextEncoder().encode(value.string) };
  return { name, type: A.GRAPH, g: value.graph };
}

export type Dim = number | string;

/** ONNX element types of the safetensors dtypes a weight may be stored in. */
const DT_OF: Record<string, number> = { BF16: DT.BFLOAT16, F16: DT.FLOAT16, F32: DT.FLOAT };

export function valueInfoOf(name: string, elemType: number, dims: Dim[] | undefined): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: dims && { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Where an external tensor's bytes are, relative to the model file. */
export type ExternalLocation = (file: string) => string;

/**
 * A quantized weight as its kernel takes it: its parts (graph values) and, blockwise,
 * MatMulNBits' attributes; per-column, int8 B [K, N] and float32 scales [N].
 */
export interface QuantizedOperand {
  layout: QuantLayout;
  /** Per-column only: float32 on the dequantized weights instead of the integer GEMM. */
  exact: boolean;
  /** The compute type the operand was made for. */
  ct: number;
  data: string;
  scales: string;
  zeroPoints?: string;
  attributes: Record<string, Attr>;
}

export class Graph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  /** Keeps generated names unique across a model and its subgraphs (ONNX requires SSA throughout). */
  private prefix = '';
  private readonly weights = new Map<string, string>();
  private readonly quantized = new Map<string, QuantizedOperand>();
  private readonly shared = new Map<string, string>();
  private readonly rowQuantizedOf = new Map<string, { quantized: string; rowScale: string; zero: string }>();

  constructor(readonly name: string, private readonly location: ExternalLocation = (file) => file, isBody = false) {
    // Subgraph prefixes count from 0 for each model, so the same checkpoint always builds
    // the same bytes (the graph cache is keyed by them). Builds are synchronous.
    if (!isBody) Graph.bodies = 0;
  }

  fresh(prefix: string): string {
    return `${this.prefix}${prefix}_${this.counter++}`;
  }

  input(name: string, elemType: number, dims?: Dim[]): string {
    this.inputs.push(valueInfoOf(name, elemType, dims));
    return name;
  }

  output(name: string, from: string, elemType: number, dims?: Dim[]): void {
    this.op('Identity', [from], {}, { outputs: [name] });
    this.outputs.push(valueInfoOf(name, elemType, dims));
  }

  /** Adds a node; returns its output names (one unless `outputs` says otherwise). */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, options: { outputs?: number | string[]; domain?: string } = {}): string[] {
    const outputs = Array.isArray(options.outputs)
      ? options.outputs
      : Array.from({ length: options.outputs ?? 1 }, () => this.fresh(type.toLowerCase()));
    this.nodes.push({
      opType: type,
      domain: options.domain ?? '',
      name: this.fresh(`n_${type}`),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([n, v]) => attribute(n, v)),
    });
    return outputs;
  }

  /** One-output shorthand. */
  o(type: string, inputs: string[], attrs: Record<string, Attr> = {}, domain?: string): string {
    return this.op(type, inputs, attrs, { domain })[0];
  }

  /** `x`, of element type `from`, as type `to`: a Cast only where the two differ. */
  convert(x: string, from: number, to: number): string {
    return from === to ? x : this.o('Cast', [x], { to: { int: to } });
  }

  constInt64(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const_i64');
    this.initializers.push({ name, dataType: DT.INT64, dims, int64Data: values });
    return name;
  }

  constBool(value: boolean): string {
    const name = this.fresh('const_bool');
    this.initializers.push({ name, dataType: DT.BOOL, dims: [], int32Data: [value ? 1 : 0] });
    return name;
  }

  constFloat(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    const name = this.fresh('const_f32');
    this.initializers.push({ name, dataType: DT.FLOAT, dims, floatData: Array.from(values) });
    return name;
  }

  /**
   * A checkpoint weight as float32: an external-data initializer pointing into the
   * safetensors file (bf16/f16/f32 as stored), cast inside the graph. Cached per tensor.
   */
  weight(info: TensorInfo, to: number = DT.FLOAT): string {
    const key = `${info.name}:${to}`;
    let value = this.weights.get(key);
    if (!value) {
      value = this.convert(this.rawWeight(info), DT_OF[info.dtype], to);
      this.weights.set(key, value);
    }
    return value;
  }

  /** The ONNX element type a tensor is stored in. */
  storedType(info: TensorInfo): number {
    const dataType = DT_OF[info.dtype];
    if (dataType === undefined) throw new Error(`${info.name}: ${info.dtype} weights are not supported`);
    return dataType;
  }

  /** The initializer that points into the safetensors file (its stored dtype). */
  rawWeight(info: TensorInfo): string {
    const dataType = this.storedType(info);
    const raw = `w:${info.name}`;
    if (!this.initializers.some((i) => i.name === raw)) this.external(raw, dataType, info.shape, this.location(info.file), info.offset, info.byteLength);
    return raw;
  }

  /** An initializer whose bytes lie in a file beside the model (ONNX external data). */
  private external(name: string, dataType: number, dims: number[], location: string, offset: number, length: number): void {
    this.initializers.push({
      name,
      dataType,
      dims,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    });
  }

  /**
   * W quantized into `store` as `role` needs it (quantizedWeights.ts), for `quantizedMatMul`
   * with x in the compute type `ct`. The quantized parts are initializers of this graph (the
   * outermost one: branches and loop bodies share them); MatMulNBits' scales are stored as
   * float32 and cast to `ct` here (folded at load).
   */
  quantizedWeight(info: TensorInfo, store: QuantizedWeights, ct: number, role: LinearRole = 'linear'): QuantizedOperand {
    const key = `q:${info.name}:${ct}`;
    let operand = this.quantized.get(key);
    if (!operand) {
      const entry = store.place(info, role);
      // Named with the graph's prefix, like every value it makes.
      const data = `${this.prefix}q:${info.name}`;
      const scales = `${data}:scales`;
      const zeroPoints = `${data}:zero_points`;
      const perColumn = entry.layout === 'per-column';
      if (!this.initializers.some((i) => i.name === data)) {
        if (perColumn) this.external(data, DT.INT8, [entry.k, entry.n], store.fileName, entry.dataOffset, entry.dataBytes);
        else this.external(data, DT.UINT8, [entry.n, entry.kBlocks, entry.blobBytes], store.fileName, entry.dataOffset, entry.dataBytes);
        this.external(scales, DT.FLOAT, [entry.scaleBytes / 4], store.fileName, entry.scalesOffset, entry.scaleBytes);
        if (entry.zeroPointBytes) this.external(zeroPoints, DT.UINT8, [entry.zeroPointBytes], store.fileName, entry.zeroPointsOffset, entry.zeroPointBytes);
      }
      operand = {
        layout: entry.layout,
        exact: store.exact,
        ct,
        data,
        scales: perColumn ? scales : this.convert(scales, DT.FLOAT, ct),
        zeroPoints: entry.zeroPointBytes ? zeroPoints : undefined,
        attributes: perColumn ? {} : {
          K: { int: entry.k }, N: { int: entry.n }, bits: { int: store.scheme.bits }, block_size: { int: store.scheme.blockSize },
          accuracy_level: { int: store.scheme.accuracyLevel },
        },
      };
      this.quantized.set(key, operand);
    }
    return operand;
  }

  /** `x · Wᵀ (+ bias)` for x [..., K] in W's compute type, by W's kernel, in whichever graph or body `this` is. */
  quantizedMatMul(x: string, w: QuantizedOperand, bias?: string): string {
    if (w.layout === 'blockwise') {
      const inputs = [x, w.data, w.scales, w.zeroPoints ?? '', ...(bias ? ['', bias] : [])];
      while (inputs[inputs.length - 1] === '') inputs.pop();
      return this.o('MatMulNBits', inputs, w.attributes, 'com.microsoft');
    }
    const product = w.exact
      // What the weights stand for, in float32, folded at load. Cast and Mul, not
      // DequantizeLinear: ONNX Runtime would rewrite DequantizeLinear → MatMul into a
      // MatMulNBits, which cannot reach a weight held by an outer graph.
      ? this.o('MatMul', [x, this.convert(this.o('Mul', [this.o('Cast', [w.data], { to: { int: DT.FLOAT } }), w.scales]), DT.FLOAT, w.ct)])
      : this.convert(this.integerGemm(this.convert(x, w.ct, DT.FLOAT), w), DT.FLOAT, w.ct);
    return bias ? this.o('Add', [product, bias]) : product;
  }

  /**
   * x [..., K] float32 × B [K, N] int8 per column, with x quantized per row (per token):
   * each row's max |x| maps to ±127 around a zero point of 128 (u8; ONNX Runtime's integer
   * GEMM takes A's zero point per tensor only, so a per-row zero is out, and symmetric rows
   * need none). Per row, not per tensor: one token with outlying activations coarsens only
   * its own row. `MatMulIntegerToFloat` multiplies the int32 products by the row's and the
   * column's scales (ONNX Runtime's fusion of MatMulInteger → Cast → Mul makes the same node).
   */
  private integerGemm(x: string, w: QuantizedOperand): string {
    const { quantized, rowScale, zero } = this.rowQuantized(x);
    return this.o('MatMulIntegerToFloat', [quantized, w.data, rowScale, w.scales, zero], {}, 'com.microsoft');
  }

  /**
   * x quantized per row (last axis) to u8 around 128 with the row's scale: round(x / s) + 128,
   * s = max|x| / 127 (rowScale), once per value: layers that read the same x (q/k/v, gate/up)
   * share it. The integer GEMM's activations and the 8-bit K/V cache (attention.ts) alike.
   */
  rowQuantized(x: string): { quantized: string; rowScale: string; zero: string } {
    const known = this.rowQuantizedOf.get(x);
    if (known) return known;
    const rowScale = this.rowScale(x);
    const zero = this.sharedConst('zp128', () => {
      const name = this.fresh('const_u8');
      this.initializers.push({ name, dataType: DT.UINT8, dims: [], int32Data: [128] });
      return name;
    });
    const quantized = this.o('QuantizeLinear', [this.o('Div', [x, rowScale]), this.sharedConst('one', () => this.constFloat([1], [])), zero]);
    const made = { quantized, rowScale, zero };
    this.rowQuantizedOf.set(x, made);
    return made;
  }

  /**
   * Per row (last axis, kept as 1) max|x| / 127: the step that maps the row's largest
   * magnitude to ±127. An all-zero row gets a tiny step (its values quantize to 0, not NaN).
   * `emptyRows`: rows may have no columns (attention weights over an empty cache); a zero is
   * appended to each row first, since ONNX Runtime's ReduceMax hands an empty tensor back as
   * it is, not as one value per row. x of rank `rank` then.
   */
  rowScale(x: string, emptyRows?: { rank: number }): string {
    const magnitudes = this.o('Abs', [x]);
    const padded = emptyRows ? this.o('Pad', [magnitudes, this.constInt64([...new Array(2 * emptyRows.rank - 1).fill(0), 1])]) : magnitudes;
    const range = this.o('Max', [this.o('ReduceMax', [padded, this.sharedConst('axes', () => this.constInt64([-1]))], { keepdims: { int: 1 } }), this.sharedConst('tiny', () => this.constFloat([1e-30], []))]);
    return this.o('Mul', [range, this.sharedConst('inv127', () => this.constFloat([1 / 127], []))]);
  }

  /** A constant made once per graph. */
  private sharedConst(key: string, make: () => string): string {
    let name = this.shared.get(key);
    if (!name) this.shared.set(key, (name = make()));
    return name;
  }

  toGraphProto(): onnx.IGraphProto {
    return { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }

  /** A subgraph (If branch, Loop or Scan body); its generated names carry a unique prefix. */
  static body(name: string): Graph {
    const graph = new Graph(name, undefined, true);
    graph.prefix = `${name}${Graph.bodies++}/`;
    return graph;
  }

  private static bodies = 0;
}

export const OPSET = 21;

export function encodeModel(graph: Graph): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 10,
    producerName: 'video-scan',
    opsetImport: [{ domain: '', version: OPSET }, { domain: 'com.microsoft', version: 1 }],
    graph: graph.toGraphProto(),
  })).finish();
}
