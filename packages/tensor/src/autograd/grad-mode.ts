// Grad mode is module state, like `defaultGenerator`: ops read it with one boolean check.
let enabled = true;

/**
 * Whether ops record the autograd graph now (PyTorch's `torch.is_grad_enabled()`); true by default.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.is_grad_enabled.html | torch.is_grad_enabled}
 */
export function isGradEnabled(): boolean {
  return enabled;
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const before = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}

/**
 * Runs `fn` with gradient recording off (PyTorch's `with torch.no_grad():`): ops inside make no graph
 * and their results do not require grad. The previous mode is restored when `fn` returns or throws.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.no_grad.html | torch.no_grad}
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/**
 * Runs `fn` with gradient recording on (PyTorch's `torch.enable_grad()`), e.g. inside `noGrad`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.enable_grad.html | torch.enable_grad}
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Sets grad mode and returns the previous one (for the engine, which runs formulas without recording). */
export function setGradEnabled(mode: boolean): boolean {
  const before = enabled;
  enabled = mode;
  return before;
}
