import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function torchVersion(): string {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : 'not available';
}

/** The machine and versions, as a markdown list. */
export function machineReport(): string {
  const flags = readCpuFlags();
  return [
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} logical cores (nproc)` +
      `${flags.length ? `, ${flags.join(', ')}` : ''}`,
    `- Node ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}`,
    `- onnxruntime-web ${packageVersion('onnxruntime-web')}, onnxruntime-node ${packageVersion('onnxruntime-node')}, ` +
      `@tensorflow/tfjs ${packageVersion('@tensorflow/tfjs')}, @tensorflow/tfjs-backend-wasm ` +
      `${packageVersion('@tensorflow/tfjs-backend-wasm')}, PyTorch ${torchVersion()}`,
  ].join('\n');
}

function readCpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = new Set(/^flags\s*:(.*)$/m.exec(info)?.[1]?.trim().split(/\s+/) ?? []);
    return ['avx2', 'fma', 'avx512f'].filter((f) => flags.has(f));
  } catch {
    return [];
  }
}
