/** Catalogue errors: one line naming the file and the JSON pointer, which stops start-up. */
import { StartupError } from '../errors.js';

export function pointer(path: readonly (string | number)[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fail(file: string, path: readonly (string | number)[], message: string): never {
  throw new StartupError(`${file}: ${pointer(path) || '/'}: ${message}`);
}
