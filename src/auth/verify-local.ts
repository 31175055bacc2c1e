import type { Config } from '../config.js';
import { StartupError } from '../errors.js';
import type { Logger } from '../log.js';
import type { TokenVerifier } from './types.js';

export function createVerifier(config: Config, logger: Logger): TokenVerifier {
  void config;
  void logger;
  throw new StartupError('--auth oauth: no verifier in this build');
}
