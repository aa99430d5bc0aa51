export type { LoadableDtype, SafetensorsDtype } from './dtypes.js';
export { SafetensorsError, type SafetensorsErrorOptions } from './errors.js';
export {
  MAX_HEADER_BYTES,
  readSafetensorsHeader,
  type SafetensorsBytes,
  type SafetensorsHeader,
  type SafetensorsReadOptions,
  type SafetensorsTensorInfo,
} from './header.js';
export { loadSafetensors, readSafetensors, type SafetensorsContents } from './load.js';
export {
  moduleOptions,
  parseModules,
  type SafetensorsModuleEntry,
  type SafetensorsModuleName,
  type SafetensorsModuleOptions,
  type SafetensorsModules,
} from './modules.js';
export { saveSafetensors } from './save.js';
