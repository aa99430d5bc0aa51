/// <reference types="@webgpu/types" />

/** How to get WebGPU, for the error when there is none. */
export const NO_WEBGPU: string =
  'To get WebGPU: in a browser, use one that supports it (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows) ' +
  'or enable it (chrome://flags/#enable-unsafe-webgpu); in Node, `npm i webgpu` (Dawn); on a machine without a GPU, ' +
  'a software Vulkan driver such as SwiftShader (Debian: `apt-get install chromium`, then ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json and LD_LIBRARY_PATH=/usr/lib/chromium).';

interface NodeWebGPU {
  create(options: string[]): GPU;
}

let nodeGpu: Promise<GPU> | null = null;

/** `navigator.gpu` when present, else the `webgpu` package (Node), loaded on first use. */
export async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  nodeGpu ??= loadNodeWebGPU().catch((error: unknown) => {
    nodeGpu = null;
    throw error;
  });
  return nodeGpu;
}

/**
 * The `GPU` object of the `webgpu` npm package (Dawn). The specifier is a variable so that bundlers
 * for browsers never try to include it.
 */
export async function loadNodeWebGPU(
  load: (specifier: string) => Promise<unknown> = dynamicImport,
): Promise<GPU> {
  let mod: NodeWebGPU;
  try {
    mod = (await load('webgpu')) as NodeWebGPU;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `WebGPU is not available: navigator.gpu is missing and the 'webgpu' package could not be loaded (${reason}). ${NO_WEBGPU}`,
    );
  }
  return mod.create([]);
}

function dynamicImport(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}
