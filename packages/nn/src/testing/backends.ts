import { cpuBackend } from '../backend/cpu.js';
import type { Backend } from '../backend/types.js';

/** A backend under test: the conformance suite runs every case on each entry. */
export interface BackendUnderTest {
  name: string;
  create: () => Promise<Backend>;
}

export const backendsUnderTest: BackendUnderTest[] = [{ name: 'cpu', create: async () => cpuBackend }];
