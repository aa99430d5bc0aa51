import {
  declareBindings,
  layoutEntries,
  type StorageBinding,
  type UniformField,
  uniformBytes,
} from '../wgsl/bindings.js';

/**
 * A kernel's typed descriptor: its name, a variant (what changes the WGSL source: tile shape,
 * activation, …), its bindings and uniform fields (`U`: their names, so a dispatch's uniforms are
 * type-checked), and the source. Shapes never change the source: they travel as uniforms, so one
 * pipeline serves every size.
 */
export interface Kernel<U extends string = string> {
  readonly name: string;
  readonly variant: string;
  /** The pipeline cache key: name + dtype + variant. */
  readonly key: string;
  readonly uniforms: readonly UniformField<U>[];
  readonly bindings: readonly StorageBinding[];
  /** Complete WGSL, entry point `main`. */
  readonly source: string;
}

/** What a kernel file provides to `defineKernel`: the body after the binding declarations. */
export interface KernelDefinition<U extends string = string> {
  readonly name: string;
  readonly variant: string;
  readonly uniforms: readonly UniformField<U>[];
  readonly bindings: readonly StorageBinding[];
  readonly body: string;
}

/** Builds a kernel descriptor; the bindings and uniform block are declared by the helpers. */
export function defineKernel<U extends string>(def: KernelDefinition<U>): Kernel<U> {
  return {
    name: def.name,
    variant: def.variant,
    key: `${def.name}/f32/${def.variant}`,
    uniforms: def.uniforms,
    bindings: def.bindings,
    source: `${declareBindings(def.uniforms, def.bindings)}\n${def.body}`,
  };
}

const kernels = new Map<string, Kernel<string>>();

/**
 * A kernel builder that builds each variant once: `variantKey(v)` names the variant (it must determine
 * the WGSL), `build(v)` makes its descriptor on first use. One cache for every kernel file.
 */
export function memoizeKernel<V, U extends string>(
  name: string,
  variantKey: (v: V) => string,
  build: (v: V, variant: string) => Kernel<U>,
): (v: V) => Kernel<U> {
  return (v: V): Kernel<U> => {
    const variant = variantKey(v);
    const key = `${name}/${variant}`;
    let kernel = kernels.get(key) as Kernel<U> | undefined;
    if (!kernel) {
      kernel = build(v, variant);
      kernels.set(key, kernel);
    }
    return kernel;
  };
}

/** A kernel compiled for one device. */
export interface CompiledKernel {
  readonly kernel: Kernel;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Bytes of the uniform block. */
  readonly uniformBytes: number;
}

/**
 * Compiled pipelines keyed by `kernel.key`: each kernel variant is compiled once per device.
 * A WGSL error is reported with the kernel's key (through `onError` for synchronous creation,
 * as a rejection for `compile`).
 */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #onError: (error: Error) => void;
  readonly #compiled = new Map<string, CompiledKernel>();
  readonly #pending = new Set<Promise<unknown>>();
  #created = 0;

  constructor(device: GPUDevice, onError: (error: Error) => void) {
    this.#device = device;
    this.#onError = onError;
  }

  /** Pipelines created so far (one per kernel variant). */
  get created(): number {
    return this.#created;
  }

  /** Keys of the compiled kernels (`gemm/f32/skinny.tanh`, …). */
  keys(): string[] {
    return [...this.#compiled.keys()];
  }

  /** The compiled kernel, created synchronously on first use; compile errors arrive through `onError`. */
  get(kernel: Kernel<string>): CompiledKernel {
    const cached = this.#compiled.get(kernel.key);
    if (cached) return cached;
    const device = this.#device;
    device.pushErrorScope('validation');
    const { module, layout, pipelineLayout } = this.#prepare(kernel);
    const pipeline = device.createComputePipeline({
      label: kernel.key,
      layout: pipelineLayout,
      compute: { module, entryPoint: 'main' },
    });
    // reported before any later scope (the submit that uses the pipeline) reports its consequence
    const check = device.popErrorScope().then((error) => {
      if (error)
        this.#onError(new Error(`WebGPU kernel '${kernel.key}' failed to compile: ${error.message}`));
    });
    this.#track(check);
    return this.#store(kernel, pipeline, layout);
  }

  /** Compiles ahead of use; rejects with an error naming the kernel when the WGSL does not compile. */
  async compile(kernel: Kernel<string>): Promise<CompiledKernel> {
    const cached = this.#compiled.get(kernel.key);
    if (cached) return cached;
    this.#device.pushErrorScope('validation');
    const { module, layout, pipelineLayout } = this.#prepare(kernel);
    const invalid = await this.#device.popErrorScope();
    if (invalid) throw await compileError(kernel, module, invalid.message);
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.#device.createComputePipelineAsync({
        label: kernel.key,
        layout: pipelineLayout,
        compute: { module, entryPoint: 'main' },
      });
    } catch (error) {
      throw await compileError(kernel, module, error instanceof Error ? error.message : String(error));
    }
    return this.#compiled.get(kernel.key) ?? this.#store(kernel, pipeline, layout);
  }

  /** Resolves once every pending compile check has reported. */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  #prepare(kernel: Kernel): {
    module: GPUShaderModule;
    layout: GPUBindGroupLayout;
    pipelineLayout: GPUPipelineLayout;
  } {
    const device = this.#device;
    const module = device.createShaderModule({ label: kernel.key, code: kernel.source });
    const layout = device.createBindGroupLayout({
      label: kernel.key,
      entries: layoutEntries(kernel.uniforms, kernel.bindings),
    });
    const pipelineLayout = device.createPipelineLayout({ label: kernel.key, bindGroupLayouts: [layout] });
    return { module, layout, pipelineLayout };
  }

  #store(kernel: Kernel, pipeline: GPUComputePipeline, layout: GPUBindGroupLayout): CompiledKernel {
    const compiled = { kernel, pipeline, layout, uniformBytes: uniformBytes(kernel.uniforms) };
    this.#compiled.set(kernel.key, compiled);
    this.#created++;
    return compiled;
  }

  #track(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }
}

async function compileError(kernel: Kernel, module: GPUShaderModule, message: string): Promise<Error> {
  let details = '';
  try {
    const info = await module.getCompilationInfo();
    details = info.messages
      .filter((m) => m.type === 'error')
      .map((m) => `\n  line ${m.lineNum}:${m.linePos}: ${m.message}`)
      .join('');
  } catch {
    // the message alone still names the kernel
  }
  return new Error(`WebGPU kernel '${kernel.key}' failed to compile: ${message}${details}`);
}
