/**
 * A small builder for ONNX graphs (onnx-proto messages): named values, nodes, constants,
 * and weights referenced where they lie in the safetensors files (ONNX external data:
 * file, offset, length), never re-encoded into the model.
 */
import { onnx } from 'onnx-proto';
import type { TensorInfo } from '../checkpoint/safetensors';
import type { QuantizedWeights } from './quantizedWeights';

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

/** A quantized weight as MatMulNBits takes it: its parts (graph values) and attributes. */
export interface QuantizedOperand {
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
   * `x · Wᵀ (+ bias)` with W quantized (`store`'s scheme) by `com.microsoft.MatMulNBits`, which
   * takes x of any rank [..., K] in the compute type `ct`. The quantized parts are
   * initializers of this graph (the outermost one: branches and loop bodies share them);
   * scales are stored as float32 and cast to `ct` here (folded at load).
   */
  quantizedWeight(info: TensorInfo, store: QuantizedWeights, ct: number): QuantizedOperand {
    const key = `q:${info.name}:${ct}`;
    let operand = this.quantized.get(key);
    if (!operand) {
      const entry = store.place(info);
      // Named per graph: a body holding its own copies must not redefine its parent's names.
      const data = `${this.prefix}q:${info.name}`;
      const scales = `${data}:scales`;
      const zeroPoints = `${data}:zero_points`;
      if (!this.initializers.some((i) => i.name === data)) {
        this.external(data, DT.UINT8, [entry.n, entry.kBlocks, entry.blobBytes], store.fileName, entry.dataOffset, entry.dataBytes);
        this.external(scales, DT.FLOAT, [entry.n * entry.kBlocks], store.fileName, entry.scalesOffset, entry.scaleBytes);
        if (entry.zeroPointBytes) this.external(zeroPoints, DT.UINT8, [entry.zeroPointBytes], store.fileName, entry.zeroPointsOffset, entry.zeroPointBytes);
      }
      operand = {
        data,
        scales: this.convert(scales, DT.FLOAT, ct),
        zeroPoints: entry.zeroPointBytes ? zeroPoints : undefined,
        attributes: {
          K: { int: entry.k }, N: { int: entry.n }, bits: { int: store.scheme.bits }, block_size: { int: store.scheme.blockSize },
          accuracy_level: { int: store.scheme.accuracyLevel },
        },
      };
      this.quantized.set(key, operand);
    }
    return operand;
  }

  /** `x · Wᵀ (+ bias)` by MatMulNBits, in whichever graph or body `this` is. */
  matMulNBits(x: string, w: QuantizedOperand, bias?: string): string {
    const inputs = [x, w.data, w.scales, w.zeroPoints ?? '', ...(bias ? ['', bias] : [])];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    return this.o('MatMulNBits', inputs, w.attributes, 'com.microsoft');
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
