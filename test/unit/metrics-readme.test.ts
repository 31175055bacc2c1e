/** The README's Operators section names exactly the metrics a server exposes, and the flags it takes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../src/config.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { ROOT } from '../helpers/paths.js';

const readme = readFileSync(`${ROOT}README.md`, 'utf8');
const section = readme.slice(readme.indexOf('\n## Operators\n'), readme.indexOf('\n## Development\n'));

describe('README ## Operators', () => {
  it('lists every metric, and no other', async () => {
    const exposed = (await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name).sort();
    const named = [...new Set([...section.matchAll(/`(mediagen_[a-z_]+)[`{]/g)].map((m) => m[1]))].sort();
    expect(named).toEqual(exposed);
  });

  it('names flags that --help lists', () => {
    for (const flag of ['--metrics-port', '--metrics-host', '--log-format']) {
      expect(section).toContain(flag);
      expect(USAGE).toContain(flag);
    }
    expect(USAGE).toContain('MEDIAGEN_METRICS_TOKEN');
  });
});
