export type { Config, SmsProviderName } from './config';
export { loadConfig, ConfigError } from './load-config';
export { readEnvironment } from './environment';
export { parseGoDuration } from './parsers';
