import { describeForError } from '@recurrent/tensor';
import type { Optimizer } from './optimizer.js';

/** `scheduler.stateDict()`: PyTorch's keys (`last_epoch`, `base_lrs`, `_last_lr`, and the scheduler's own). */
export type SchedulerStateDict = Record<string, unknown>;

// biome-ignore lint/suspicious/noExplicitAny: a scheduler drives any optimizer's `lr`
type AnyOptimizer = Optimizer<any>;

/**
 * The base of the LR schedulers, like `torch.optim.lr_scheduler._LRScheduler` in 1.13: construction
 * records each group's `initialLr` and takes the first step (epoch 0); each `step()` moves one epoch and
 * writes the groups' `lr` from the recursive (chainable) `getLr()`, as PyTorch does.
 */
export abstract class LRScheduler {
  readonly optimizer: AnyOptimizer;
  /** Each group's `initialLr` (PyTorch's `base_lrs`). */
  baseLrs: number[];
  /** The epoch count (−1 before the first step; 0 after construction). */
  lastEpoch = -1;
  /** @internal PyTorch's `_step_count`. */
  protected stepCount = 0;
  #lastLr: number[] = [];

  protected constructor(optimizer: AnyOptimizer) {
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups)) {
      throw new TypeError(
        `${this.constructor.name}: expected an Optimizer, received ${describeForError(optimizer)}`,
      );
    }
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
  }

  /** The first step (PyTorch's `_initial_step`), called at the end of each subclass constructor. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The groups' learning rates for `lastEpoch`, from their current values (PyTorch's `get_lr`). */
  protected abstract getLr(): number[];

  /** Moves one epoch and sets each group's `lr` (PyTorch's `step()`). */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i] as number;
    });
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates the last `step()` set, one per group (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** The scheduler's own options with PyTorch's keys (`step_size`, `T_max`, …). */
  protected abstract ownState(): Record<string, number>;

  /** PyTorch's `state_dict()`: the scheduler's attributes without the optimizer. */
  stateDict(): SchedulerStateDict {
    return {
      ...this.ownState(),
      base_lrs: [...this.baseLrs],
      last_epoch: this.lastEpoch,
      verbose: false,
      _step_count: this.stepCount,
      _get_lr_called_within_step: false,
      _last_lr: [...this.#lastLr],
    };
  }

  /** Restores what `stateDict()` saved (PyTorch's `load_state_dict`). */
  loadStateDict(dict: SchedulerStateDict): void {
    if (dict === null || typeof dict !== 'object') {
      throw new TypeError(
        `${this.constructor.name}.loadStateDict: expected an object, received ${describeForError(dict)}`,
      );
    }
    if (Array.isArray(dict.base_lrs)) this.baseLrs = [...(dict.base_lrs as number[])];
    if (typeof dict.last_epoch === 'number') this.lastEpoch = dict.last_epoch;
    if (typeof dict._step_count === 'number') this.stepCount = dict._step_count;
    if (Array.isArray(dict._last_lr)) this.#lastLr = [...(dict._last_lr as number[])];
    this.loadOwnState(dict);
  }

  protected abstract loadOwnState(dict: SchedulerStateDict): void;
}

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Decay every `stepSize` epochs (a positive integer). */
  stepSize: number;
  /** The decay factor (default 0.1). */
  gamma?: number;
}

/**
 * `torch.optim.lr_scheduler.StepLR`: `lr ← lr·gamma` at every epoch that is a multiple of `stepSize`.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.StepLR.html | torch.optim.lr_scheduler.StepLR}
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    super(optimizer);
    const { stepSize, gamma = 0.1 } = options ?? ({} as StepLROptions);
    if (typeof stepSize !== 'number' || !Number.isInteger(stepSize) || stepSize < 1) {
      throw new RangeError(
        `StepLR: stepSize must be an integer >= 1, received ${describeForError(stepSize)}`,
      );
    }
    if (typeof gamma !== 'number' || !Number.isFinite(gamma)) {
      throw new RangeError(`StepLR: gamma must be a finite number, received ${describeForError(gamma)}`);
    }
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected ownState(): Record<string, number> {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected loadOwnState(dict: SchedulerStateDict): void {
    if (typeof dict.step_size === 'number') this.stepSize = dict.step_size;
    if (typeof dict.gamma === 'number') this.gamma = dict.gamma;
  }
}

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** The half period, in epochs (PyTorch's `T_max`). */
  tMax: number;
  /** The minimum learning rate (PyTorch's `eta_min`, default 0). */
  etaMin?: number;
}

/** Python's `%` (the sign of the divisor). */
const pyMod = (a: number, b: number): number => ((a % b) + b) % b;

/**
 * `torch.optim.lr_scheduler.CosineAnnealingLR` with 1.13's recursive `get_lr` (each lr computed from the
 * group's current one, so it chains with other changes), not the closed form.
 *
 * @see {@link https://pytorch.org/docs/1.13/generated/torch.optim.lr_scheduler.CosineAnnealingLR.html | torch.optim.lr_scheduler.CosineAnnealingLR}
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer);
    const { tMax, etaMin = 0 } = options ?? ({} as CosineAnnealingLROptions);
    if (typeof tMax !== 'number' || !(tMax > 0)) {
      throw new RangeError(
        `CosineAnnealingLR: tMax must be a positive number, received ${describeForError(tMax)}`,
      );
    }
    if (typeof etaMin !== 'number' || !Number.isFinite(etaMin)) {
      throw new RangeError(
        `CosineAnnealingLR: etaMin must be a finite number, received ${describeForError(etaMin)}`,
      );
    }
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return groups.map(
        (g, i) => g.lr + (((this.baseLrs[i] as number) - etaMin) * (1 - Math.cos(Math.PI / T))) / 2,
      );
    }
    return groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) +
        etaMin,
    );
  }

  protected ownState(): Record<string, number> {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }

  protected loadOwnState(dict: SchedulerStateDict): void {
    if (typeof dict.T_max === 'number') this.tMax = dict.T_max;
    if (typeof dict.eta_min === 'number') this.etaMin = dict.eta_min;
  }
}
