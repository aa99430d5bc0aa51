/// <reference types="@webgpu/types" preserve="true" />

/** A storage buffer a kernel binds, in order: binding 0 is the uniform block `p`, these follow from 1. */
export interface StorageBinding {
  /** The WGSL variable name (`a`, `out`, …). */
  readonly name: string;
  /** `read` binds as read-only storage; `read_write` as writable storage. */
  readonly access: 'read' | 'read_write';
}

/** One scalar of a kernel's uniform block. Shapes, strides and offsets travel here, not in the source. */
export interface UniformField {
  readonly name: string;
  readonly type: 'u32' | 'f32';
}

/** Shorthand: `u32('M', 'N')` → fields of type u32. */
export function u32(...names: string[]): UniformField[] {
  return names.map((name) => ({ name, type: 'u32' }));
}

/** Shorthand: `f32('scale')` → fields of type f32. */
export function f32(...names: string[]): UniformField[] {
  return names.map((name) => ({ name, type: 'f32' }));
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
    ...storage.map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b.access}> ${b.name}: array<f32>;`),
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
