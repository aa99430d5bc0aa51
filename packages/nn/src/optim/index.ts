export { Adam, type AdamOptions, AdamW } from './adam.js';
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  LRScheduler,
  type SchedulerStateDict,
  StepLR,
  type StepLROptions,
} from './lr-scheduler.js';
export {
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
  type ZeroGradOptions,
} from './optimizer.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { SGD, type SGDOptions } from './sgd.js';
