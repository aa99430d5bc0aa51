#!/usr/bin/env node
// First step of `pnpm test`: make sure the WebGPU tests will find an adapter. Without a hardware GPU
// they run on SwiftShader, which Debian ships inside the chromium package; as root this installs it
// with apt-get (saying so), otherwise it explains how. Under CI=true a missing adapter is an error.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { configuredAdapter, hasHardwareAdapter, SWIFTSHADER_ICD } from './software-gpu.mjs';

const ci = process.env.CI === 'true';
const configured = configuredAdapter();
if (process.platform !== 'linux' || configured === 'native' || existsSync(SWIFTSHADER_ICD)) process.exit(0);
if (configured !== 'software' && hasHardwareAdapter()) process.exit(0);

const install = 'apt-get update && apt-get install -y chromium';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && existsSync('/usr/bin/apt-get')) {
  console.log(`[ensure-software-gpu] no GPU adapter and no SwiftShader: installing it (${install})`);
  try {
    execSync(install, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    // reported below
  }
  if (existsSync(SWIFTSHADER_ICD)) process.exit(0);
  console.error(`[ensure-software-gpu] '${install}' did not provide ${SWIFTSHADER_ICD}`);
} else {
  console.error(
    `[ensure-software-gpu] no GPU adapter and no software driver: the WebGPU tests need one. On Debian/Ubuntu run\n` +
      `  sudo sh -c '${install}'\n(SwiftShader, ${SWIFTSHADER_ICD}); or set RECURRENT_WEBGPU=native if your GPU is set up another way.`,
  );
}
if (ci) {
  console.error('[ensure-software-gpu] CI=true: the WebGPU suite must run, so this is an error');
  process.exit(1);
}
console.error('[ensure-software-gpu] continuing: the WebGPU tests will be skipped');
