import { type DType, type TypedArray, typedArrayOf } from './dtype.js';

/** A dimension: a known size, or a symbol for a size known only at run time. */
export type Dim = number | string;

/** A named tensor in the graph with its element type and (possibly symbolic) shape. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string };

export interface Node {
  readonly op: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly attrs: Record<string, Attr>;
  readonly domain: string;
}

/** Weight data is produced lazily so a multi-GB model is converted one tensor at a time. */
export type TensorSource = TypedArray | (() => TypedArray);

/** The sources' values one after another in one typed array of the first's type. */
export function concatSources(sources: TensorSource[]): TypedArray {
  const parts: TypedArray[] = [];
  for (const s of sources) parts.push(typeof s === 'function' ? s() : s);
  const Ctor = parts[0].constructor as new (n: number) => TypedArray;
  const out = new Ctor(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    (out as { set(a: ArrayLike<number | bigint>, at: number): void }).set(p, at);
    at += p.length;
  }
  return out;
}

export interface Initializer {
  readonly value: Value;
  readonly data: TensorSource;
}

export const int = (value: number): Attr => ({ kind: 'int', value });
export const float = (value: number): Attr => ({ kind: 'float', value });
export const ints = (value: number[]): Attr => ({ kind: 'ints', value });

/**
 * The graph IR: values, nodes in topological order (every node is appended after its
 * inputs exist), graph inputs/outputs and initializers. Op builders live in `builder.ts`;
 * autodiff appends nodes to the same IR.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly values = new Map<string, Value>();
  private readonly constants = new Map<string, Value>();
  private counter = 0;

  /** A name not used yet, for intermediate values. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.values.has(name));
    return name;
  }

  /** A new symbolic dimension for sizes only known when the graph runs. */
  sym(hint = 'd'): string {
    return `${hint}?${this.counter++}`;
  }

  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new Error(`graph has no value "${name}"`);
    return v;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  private define(name: string, dtype: DType, shape: readonly Dim[]): Value {
    if (this.values.has(name)) throw new Error(`value "${name}" defined twice`);
    const v: Value = { name, dtype, shape: [...shape] };
    this.values.set(name, v);
    return v;
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    const v = this.define(name, dtype, shape);
    this.inputs.push(v);
    return v;
  }

  initializer(name: string, dtype: DType, shape: readonly Dim[], data: TensorSource): Value {
    const v = this.define(name, dtype, shape);
    this.initializers.set(name, { value: v, data });
    return v;
  }

  /** A small constant tensor, shared between all uses of the same dtype, shape and values. */
  constant(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Value {
    const key = `${dtype}|${shape.join(',')}|${Array.from(values).join(',')}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const v = this.initializer(this.fresh('const'), dtype, shape, typedArrayOf(dtype, values));
    this.constants.set(key, v);
    return v;
  }

  /** Marks `v` as a graph output, named `name` (an Identity is added when the names differ). */
  output(v: Value, name = v.name): Value {
    const out = name === v.name ? v : this.emit('Identity', [v], [{ dtype: v.dtype, shape: v.shape, name }])[0];
    this.outputs.push(out);
    return out;
  }

  /**
   * Drops the nodes whose outputs reach no graph output. onnxruntime runs such nodes too, and last
   * (its execution order reaches them from no output), holding their inputs until the end of the run.
   */
  removeDeadNodes(): void {
    const needed = new Set(this.outputs.map((o) => o.name));
    const keep = new Array<boolean>(this.nodes.length).fill(false);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      if (!node.outputs.some((o) => needed.has(o))) continue;
      keep[i] = true;
      for (const input of node.inputs) if (input !== '') needed.add(input);
    }
    const live = this.nodes.filter((_, i) => keep[i]);
    this.nodes.length = 0;
    this.nodes.push(...live);
  }

  /** Appends a node; `''` stands for an omitted optional input. */
  emit(
    op: string,
    inputs: (Value | '')[],
    outs: { dtype: DType; shape: readonly Dim[]; name?: string }[],
    attrs: Record<string, Attr> = {},
    domain = '',
  ): Value[] {
    const outputs = outs.map((o) => this.define(o.name ?? this.fresh(op.toLowerCase()), o.dtype, o.shape));
    this.nodes.push({
      op,
      inputs: inputs.map((i) => (i === '' ? '' : i.name)),
      outputs: outputs.map((o) => o.name),
      attrs,
      domain,
    });
    return outputs;
  }
}
