/**
 * Inputs that .ci/run prepares for a packaging test (a fresh clone, Claude Code from npm), named by an env
 * variable. Without one, the test is skipped with a printed reason outside CI; under CI its absence is a
 * failure, so a block that forgot to pass it cannot pass by skipping. The main suite under CI runs these
 * files too, before the blocks that prepare their inputs: .ci/run marks that run with
 * MEDIAGEN_PACKAGING_LATER=1, and there they skip.
 */
import { it } from 'vitest';

/** The value of `name`, or undefined after registering a skip (or, under CI, a failing test) for `what`. */
export function ciInput(name: string, what: string): string | undefined {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (process.env.CI && !process.env.MEDIAGEN_PACKAGING_LATER) {
    it(`${what}: ${name} is required under CI`, () => {
      throw new Error(`${name} is not set under CI: ${what} would be skipped`);
    });
  } else {
    process.stderr.write(`[skip] ${what}: ${name} is not set (.ci/run sets it)\n`);
  }
  return undefined;
}
