/// <reference types="@webgpu/types" />

/** A storage buffer a kernel binds, in order: binding 0 is the uniform block `p`, these follow from 1. */
export interface StorageBinding {
  /** The WGSL variable name (`a`, `out`, …). */
  readonly name: string;
  /** `read` binds as read-only storage; `read_write` as writable storage. */
  readonly access: 'read' | 'read_write';
  /**
   * The element type of the WGSL array: `f32` (the default), `i32` (int32 tensors: indices) or `u32`
   * (tables of offsets and counts).
   */
  readonly type?: 'f32' | 'i32' | 'u32';
}

/** One scalar of a kernel's uniform block. Shapes, strides and offsets travel here, not in the source. */
export interface UniformField<N extends string = string> {
  readonly name: N;
  readonly type: 'u32' | 'f32';
}

/** Shorthand: `u32('M', 'N')` → fields of type u32, typed by their names. */
export function u32<const N extends string>(...names: N[]): UniformField<N>[] {
  return names.map((name) => ({ name, type: 'u32' }));
}

/** Shorthand: `f32('scale')` → fields of type f32, typed by their names. */
export function f32<const N extends string>(...names: N[]): UniformField<N>[] {
  return names.map((name) => ({ name, type: 'f32' }));
}

/**
 * Flag bits shared by a kernel's WGSL and the code that dispatches it: `wgslFlags(F)` declares
 * `const NAME = bitu;` for each entry, `flagBits(F, { NAME: true })` sets the bits of a `flags` uniform.
 */
export function wgslFlags(flags: Readonly<Record<string, number>>): string {
  return Object.entries(flags)
    .map(([name, bit]) => `const ${name} = ${bit}u;`)
    .join('\n');
}

/** The `flags` uniform with the named bits of `flags` set where `on` says so. */
export function flagBits<F extends Readonly<Record<string, number>>>(
  flags: F,
  on: Partial<Record<keyof F, boolean>>,
): number {
  let bits = 0;
  for (const name of Object.keys(flags) as (keyof F)[]) if (on[name]) bits |= flags[name] as number;
  return bits;
}

/** Bytes of the uniform block: 4 per scalar, rounded up to 16. */
export function uniformBytes(fields: readonly UniformField[]): number {
  return Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
}

/** The WGSL declarations of a kernel's uniform block (`p`, binding 0) and storage bindings (1…). */
export function declareBindings(
  uniforms: readonly UniformField[],
  storage: readonly StorageBinding[],
): string {
  const fields = uniforms.map((f) => `  ${f.name}: ${f.type},`);
  const padding = uniformBytes(uniforms) / 4 - uniforms.length;
  for (let i = 0; i < padding; i++) fields.push(`  _pad${i}: u32,`);
  const lines = [
    `struct Params {\n${fields.join('\n')}\n}`,
    '@group(0) @binding(0) var<uniform> p: Params;',
    ...storage.map(
      (b, i) =>
        `@group(0) @binding(${i + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type ?? 'f32'}>;`,
    ),
  ];
  return lines.join('\n');
}

/** GPUShaderStage.COMPUTE, spelled out so no WebGPU global is needed at load time. */
const COMPUTE_STAGE = 4;

/** The bind group layout matching `declareBindings`: the uniform block takes a dynamic offset. */
export function layoutEntries(
  uniforms: readonly UniformField[],
  storage: readonly StorageBinding[],
): GPUBindGroupLayoutEntry[] {
  return [
    {
      binding: 0,
      visibility: COMPUTE_STAGE,
      buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: uniformBytes(uniforms) },
    },
    ...storage.map(
      (b, i): GPUBindGroupLayoutEntry => ({
        binding: i + 1,
        visibility: COMPUTE_STAGE,
        buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage', minBindingSize: 4 },
      }),
    ),
  ];
}
