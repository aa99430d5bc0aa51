#!/usr/bin/env node
// Runs a command (the packages' test runner) with a WebGPU adapter available: the environment as it is
// when it already has a hardware adapter (or RECURRENT_WEBGPU=native / VK_ICD_FILENAMES says so),
// SwiftShader's variables otherwise.  Usage: node ../../scripts/gpu-env.mjs vitest run
import { spawn } from 'node:child_process';
import { configuredAdapter, hasHardwareAdapter, softwareGpuEnv } from './software-gpu.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/gpu-env.mjs <command> [args…]');
  process.exit(2);
}

const env = { ...process.env };
const configured = configuredAdapter(env);
if (
  configured !== 'native' &&
  process.platform === 'linux' &&
  (configured === 'software' || !hasHardwareAdapter())
) {
  const vars = softwareGpuEnv(env);
  if (vars) Object.assign(env, vars, { RECURRENT_WEBGPU_ADAPTER: 'swiftshader' });
}

const child = spawn(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`gpu-env: could not run ${command}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
