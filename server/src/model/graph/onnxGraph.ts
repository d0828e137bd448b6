/**
 * A small builder for ONNX graphs (onnx-proto messages): named values, nodes, constants,
 * and weights referenced where they lie in the safetensors files (ONNX external data:
 * file, offset, length), never re-encoded into the model.
 */
import { onnx } from 'onnx-proto';
import type { TensorInfo } from '../checkpoint/safetensors';

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

export class Graph {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  /** Keeps generated names unique across a model and its subgraphs (ONNX requires SSA throughout). */
  private prefix = '';
  private readonly weights = new Map<string, string>();

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

  /** The initializer that points into the safetensors file (its stored dtype). */
  private rawWeight(info: TensorInfo): string {
    const dataType = DT_OF[info.dtype];
    if (dataType === undefined) throw new Error(`${info.name}: ${info.dtype} weights are not supported`);
    const raw = `w:${info.name}`;
    if (!this.initializers.some((i) => i.name === raw)) {
      this.initializers.push({
        name: raw,
        dataType,
        dims: info.shape,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.location(info.file) },
          { key: 'offset', value: String(info.offset) },
          { key: 'length', value: String(info.byteLength) },
        ],
      });
    }
    return raw;
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
