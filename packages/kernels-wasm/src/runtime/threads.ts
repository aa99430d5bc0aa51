/**
 * The hardware threads of this machine: `navigator.hardwareConcurrency` (browsers, Deno, Node ≥ 21),
 * else Node's `os.availableParallelism()`, else 1.
 */
export async function hardwareThreads(): Promise<number> {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { versions?: { node?: string } };
  };
  const fromNavigator = g.navigator?.hardwareConcurrency;
  if (typeof fromNavigator === 'number' && fromNavigator >= 1) return fromNavigator;
  if (g.process?.versions?.node) {
    const specifier = 'node:os'; // computed, so browser bundlers leave it alone
    try {
      const os = (await import(/* @vite-ignore */ specifier)) as {
        availableParallelism?: () => number;
        cpus(): unknown[];
      };
      return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    } catch {}
  }
  return 1;
}
