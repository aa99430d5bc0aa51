import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Every test here compiles WGSL pipelines; on SwiftShader (CI's software GPU) one persistent pipeline can take
// tens of seconds to compile, and a test compiles several, so the per-test limit is 5 minutes, not 1.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 300_000 } }));
