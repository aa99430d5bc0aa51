export { type CharCheckpoint, CharModel, type CharModelOptions, loadCharModel } from './char-model.js';
export { encode, type GenerateOptions, type Generation, generate } from './generate.js';
