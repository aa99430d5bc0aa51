// Where a WebGPU adapter comes from in tests: a hardware GPU when there is one, else SwiftShader
// (Chromium's software Vulkan driver) under Dawn, the `webgpu` package. Shared by gpu-env.mjs (wraps
// the test runner) and ensure-software-gpu.mjs (installs the driver on a fresh machine).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const CHROMIUM_VULKAN_LOADER = '/usr/lib/chromium/libvulkan.so.1';

/**
 * What the environment already decides: RECURRENT_WEBGPU=native keeps the environment as it is,
 * =software forces SwiftShader; a VK_ICD_FILENAMES set by the user is respected.
 */
export function configuredAdapter(env = process.env) {
  if (env.RECURRENT_WEBGPU === 'native' || env.RECURRENT_WEBGPU === 'hardware') return 'native';
  if (env.RECURRENT_WEBGPU === 'software') return 'software';
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return 'native';
  return null;
}

/** True when Dawn finds a non-fallback adapter with the environment as it is (probed in a child). */
export function hasHardwareAdapter(cwd = process.cwd()) {
  let webgpu;
  try {
    webgpu = createRequire(join(cwd, 'package.json')).resolve('webgpu');
  } catch {
    try {
      webgpu = createRequire(new URL('../packages/kernels-webgpu/package.json', import.meta.url)).resolve(
        'webgpu',
      );
    } catch {
      return false;
    }
  }
  const probe = `const { create } = await import(${JSON.stringify(pathToFileURL(webgpu).href)});
const adapter = await create([]).requestAdapter();
process.stdout.write(adapter && !adapter.info.isFallbackAdapter ? 'hardware' : 'none');
process.exit(0);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return result.stdout === 'hardware';
}

function systemHasVulkanLoader() {
  try {
    return execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/**
 * The variables that make Dawn use SwiftShader, or null when it is not installed. Chromium bundles the
 * Vulkan loader; when the system has none, a directory holding only a link to it goes on LD_LIBRARY_PATH
 * (read by the dynamic loader at process start, hence a wrapper that spawns the test process).
 */
export function softwareGpuEnv(env = process.env) {
  if (process.platform !== 'linux' || !existsSync(SWIFTSHADER_ICD)) return null;
  const vars = { VK_ICD_FILENAMES: SWIFTSHADER_ICD, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR || tmpdir() };
  if (!systemHasVulkanLoader() && existsSync(CHROMIUM_VULKAN_LOADER)) {
    const dir = join(tmpdir(), 'recurrent-vulkan-loader');
    const link = join(dir, 'libvulkan.so.1');
    mkdirSync(dir, { recursive: true });
    if (!existsSync(link)) {
      try {
        symlinkSync(CHROMIUM_VULKAN_LOADER, link);
      } catch {
        // another test process made it first
      }
    }
    vars.LD_LIBRARY_PATH = env.LD_LIBRARY_PATH ? `${dir}:${env.LD_LIBRARY_PATH}` : dir;
  }
  return vars;
}
