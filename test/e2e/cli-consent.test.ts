/**
 * Consent on the command line cannot be skipped unseen: the built bin, the sandbox on loopback (its request
 * counter proves what was created), a real SQLite ledger. A y typed into the terminal before the price is on
 * screen answers nothing; every setting that loosens consent prints a line on stderr whatever --log-level.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempDir } from '../helpers/in-memory.js';
import { ACME_FILE, ROOT } from '../helpers/paths.js';
import { runInPty, runPiped } from '../helpers/terminal.js';

let sandbox: Sandbox;
let base: Record<string, string>;

/** Provider requests that could create or spend (every POST the sandbox received). */
const posts = (): number => sandbox.stats().requests.filter((r) => r.method === 'POST').length;

// 18 credits, at or above Phaya's threshold of 5: asks the person unless consent is loosened.
const SEEDANCE = ['call', 'phaya_seedance', 'prompt=a river at dusk', 'resolution=1080p', 'duration=12s'];

/** The shipped Seedance price table, as its catalogue has it. */
function seedanceTable(): { by: string[]; rows: Record<string, number> } {
  const doc = JSON.parse(readFileSync(join(ROOT, 'catalogues/phaya.json'), 'utf8')) as {
    operations: { id: string; price?: { table?: { by: string[]; rows: Record<string, number> } } }[];
  };
  const table = doc.operations.find((op) => op.id === 'seedance')?.price?.table;
  if (!table) throw new Error('no Seedance table in the shipped catalogue');
  return table;
}

function overlay(prices: Record<string, unknown>): string {
  const file = join(tempDir(), 'prices.json');
  writeFileSync(file, JSON.stringify({ prices }));
  return file;
}

beforeAll(async () => {
  sandbox = await startSandbox({ pollsToComplete: 3 });
  base = {
    PHAYA_BASE: sandbox.baseUrl('phaya', 'https://api.phaya.io/api/v1'),
    PHAYA_API_KEY: sandbox.key,
    MEDIAIO_BASE_URL: sandbox.baseUrl('mediaio', 'https://openapi.media.io'),
    MEDIAIO_API_KEY: sandbox.key,
  };
});
afterAll(async () => {
  await sandbox?.close();
});

/** A fresh ledger per call, so no consent token or key of another test is in it. */
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...base,
  MEDIAGEN_STATE_DIR: tempDir(),
  ...extra,
});

describe('command line: the y/N question reads only keys typed after the price is shown', () => {
  it('a y typed before the question appeared does not approve: the later Enter (No) decides, zero creates', async () => {
    const before = posts();
    const r = await runInPty(SEEDANCE, env(), [
      { when: () => true, send: 'y\r' }, // typed ahead, as `script -qec … <<< y` does
      { when: '[y/N]', send: '\r' },
    ]);
    expect(r.stdout).toContain('Price: 18 credits');
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('CONSENT_DECLINED');
    expect(posts()).toBe(before);
  });

  it('a y typed after the question appeared approves: exactly one create', async () => {
    const before = posts();
    const r = await runInPty(SEEDANCE, env(), [
      { when: () => true, send: 'y\r' },
      { when: '[y/N]', send: 'y\r' },
    ]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Job job_\S+ started: phaya_seedance/);
    expect(posts()).toBe(before + 1);
  });
});

describe('command line: every consent-loosening setting prints a loud line that no log level hides', () => {
  const loud = 'mediagen-mcp: CONSENT LOOSENED: ';
  const runs: [string, string[], Record<string, string>, string][] = [
    [
      '--confirm-above',
      ['--confirm-above', 'phaya=1000', '--log-level', 'error'],
      {},
      '--confirm-above phaya=1000: phaya_seedance is asked about only from 1,000 credits (catalogue: 5 credits)',
    ],
    [
      'MEDIAGEN_CONFIRM_ABOVE',
      [],
      { MEDIAGEN_CONFIRM_ABOVE: 'phaya=1000', MEDIAGEN_LOG_LEVEL: 'error' },
      'MEDIAGEN_CONFIRM_ABOVE phaya=1000: phaya_seedance is asked about only from 1,000 credits',
    ],
    [
      '--consent-off',
      ['--consent-off', 'phaya', '--log-level', 'error'],
      {},
      '--consent-off phaya: phaya_seedance runs without asking you, whatever its price (caps still apply)',
    ],
    [
      'MEDIAGEN_CONSENT_OFF',
      [],
      { MEDIAGEN_CONSENT_OFF: 'phaya', MEDIAGEN_LOG_LEVEL: 'error' },
      'MEDIAGEN_CONSENT_OFF phaya: phaya_seedance runs without asking you',
    ],
  ];
  for (const [name, flags, vars, line] of runs) {
    it(`${name}: the call runs unasked (one create) and stderr says so`, async () => {
      const before = posts();
      const r = await runPiped([...SEEDANCE, ...flags], env(vars));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toContain(loud + line);
      expect(posts()).toBe(before + 1);
    });
  }

  it('MEDIAGEN_PRICES (and --prices) pricing Seedance at 0: runs unasked and stderr names the file and both prices', async () => {
    const file = overlay({ phaya_seedance: { credits: 0 } });
    const before = posts();
    const byEnv = await runPiped(SEEDANCE, env({ MEDIAGEN_PRICES: file, MEDIAGEN_LOG_LEVEL: 'error' }));
    expect(byEnv.code, byEnv.stdout + byEnv.stderr).toBe(0);
    expect(byEnv.stderr).toContain(
      `${loud}MEDIAGEN_PRICES ${file} prices phaya_seedance at 0 credits (catalogue: 2–35 credits by resolution × duration × generate_audio); below the threshold phaya_seedance runs without asking you`,
    );
    const byFlag = await runPiped([...SEEDANCE, '--prices', file, '--log-level', 'error'], env());
    expect(byFlag.code).toBe(0);
    expect(byFlag.stderr).toContain(`${loud}--prices ${file} prices phaya_seedance at 0 credits`);
    expect(posts()).toBe(before + 2);
  });

  it('an overlay giving an unknown-price tool a price says so; a lower threshold or an overlay identical to the catalogue is silent', async () => {
    const priced = overlay({ mediaio_t2i_imagen_4: { credits: 1 } });
    const before = posts();
    const r = await runPiped(
      ['call', 'mediaio_t2i_imagen_4', 'prompt=a red kite', '--prices', priced, '--log-level', 'error'],
      env(),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `${loud}--prices ${priced} gives mediaio_t2i_imagen_4 a price its catalogue does not know (1 credit)`,
    );
    expect(posts()).toBe(before + 1);
    // Tightening: a lower threshold only makes the call ask; nothing to announce.
    const tight = await runPiped([...SEEDANCE, '--confirm-above', 'phaya=1', '--log-level', 'error'], env());
    expect(tight.code, tight.stdout).toBe(3);
    expect(tight.stdout).toContain('CONFIRMATION_REQUIRED');
    expect(tight.stderr).not.toContain(loud);
    // An overlay entry identical to the catalogue (keys in another order) changes nothing: silent.
    const same = overlay({ phaya_seedance: { table: { rows: seedanceTable().rows, by: seedanceTable().by } } });
    const asked = await runPiped([...SEEDANCE, '--prices', same, '--log-level', 'error'], env());
    expect(asked.code, asked.stdout).toBe(3);
    expect(asked.stderr).not.toContain(loud);
    expect(posts()).toBe(before + 1);
  });

  it('an overlay with the catalogue values but rows swapped is named, and the call it makes cheap runs unasked', async () => {
    // Same lowest and highest price, same values: only 720p|12|true (18) and 480p|4|false (2) trade places.
    const { by, rows } = seedanceTable();
    const swapped = { ...rows, '720p|12|true': rows['480p|4|false'], '480p|4|false': rows['720p|12|true'] };
    const file = overlay({ phaya_seedance: { table: { by, rows: swapped } } });
    const call = ['call', 'phaya_seedance', 'prompt=a river at dusk', 'resolution=720p', 'duration=12s'];
    const before = posts();
    const r = await runPiped([...call, 'generate_audio=true', '--prices', file, '--log-level', 'error'], env());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `${loud}--prices ${file} prices phaya_seedance differently from its catalogue at some arguments ` +
        `(both 2–35 credits by resolution × duration × generate_audio); below the threshold phaya_seedance runs without asking you`,
    );
    expect(posts()).toBe(before + 1);
    // A dearer price is named too: the overlay, not the catalogue, now decides what is asked and reserved.
    const dearer = overlay({ phaya_seedance: { credits: 40 } });
    const d = await runPiped([...SEEDANCE, '--log-level', 'error'], env({ MEDIAGEN_PRICES: dearer }));
    expect(d.code, d.stdout).toBe(3);
    expect(d.stderr).toContain(`${loud}MEDIAGEN_PRICES ${dearer} prices phaya_seedance at 40 credits (catalogue: 2–35`);
    expect(posts()).toBe(before + 1);
  });

  it('--trust-observed-prices and MEDIAGEN_TRUST_OBSERVED_PRICES print the line for a tool whose price can be unknown', async () => {
    const call = ['call', 'mediaio_t2i_imagen_4', 'prompt=a red kite'];
    const before = posts();
    for (const [flags, vars, from] of [
      [['--trust-observed-prices', '--log-level', 'error'], {}, '--trust-observed-prices'],
      [[], { MEDIAGEN_TRUST_OBSERVED_PRICES: '1', MEDIAGEN_LOG_LEVEL: 'error' }, 'MEDIAGEN_TRUST_OBSERVED_PRICES'],
    ] as const) {
      const r = await runPiped([...call, ...flags], env(vars));
      // Nothing observed yet: still asked (token), and the setting is named all the same.
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toContain(
        `${loud}${from}: an observed price of mediaio_t2i_imagen_4 counts as its price; below the threshold it runs without asking`,
      );
    }
    expect(posts()).toBe(before);
  });

  /** The Acme fixture as a catalogue of one's own called "mine", with `changes` on top. */
  function mine(changes: Record<string, unknown>): string {
    const doc = JSON.parse(readFileSync(ACME_FILE, 'utf8')) as Record<string, unknown>;
    const file = join(tempDir(), 'mine.json');
    writeFileSync(file, JSON.stringify({ ...doc, $schema: undefined, provider: 'mine', ...changes }));
    return file;
  }
  const quoteMine = ['quote', 'mine_image_create', 'prompt=a kite'];
  const ownLine = (file: string, rest = ''): string =>
    `mine_image_create comes from your own catalogue ${file}; its prices and consent rules are that file's (asked from ${rest}`;

  it('a catalogue of ones own spending the Phaya key under a higher threshold is named (--catalogue and MEDIAGEN_CATALOGUES)', async () => {
    const file = mine({ auth: { type: 'bearer', env: 'PHAYA_API_KEY' }, consent: { confirmAbove: 1000 } });
    const before = posts();
    const line = `${ownLine(file, '1,000 credits)')}, and it spends with PHAYA_API_KEY, the key of phaya`;
    const byFlag = await runPiped([...quoteMine, '--catalogue', file, '--log-level', 'error'], env());
    expect(byFlag.code, byFlag.stdout + byFlag.stderr).toBe(0);
    expect(byFlag.stderr).toContain(`${loud}--catalogue ${line}`);
    const byEnv = await runPiped(quoteMine, env({ MEDIAGEN_CATALOGUES: file, MEDIAGEN_LOG_LEVEL: 'error' }));
    expect(byEnv.stderr).toContain(`${loud}MEDIAGEN_CATALOGUES ${line}`);
    expect(posts()).toBe(before);
  });

  it('a catalogue of ones own is named whatever its rules or key: the Phaya key at the same threshold and price 0, another variable holding the Phaya key, its own key', async () => {
    const before = posts();
    // PHAYA_API_KEY, Phaya's very threshold of 5, and the paid tool priced 0: runs unasked below it.
    const doc = JSON.parse(readFileSync(ACME_FILE, 'utf8')) as { operations: Record<string, unknown>[] };
    const free = doc.operations.map((op) => (op.id === 'image_create' ? { ...op, price: { credits: 0 } } : op));
    const zero = mine({
      auth: { type: 'bearer', env: 'PHAYA_API_KEY' },
      consent: { confirmAbove: 5 },
      operations: free,
    });
    const z = await runPiped([...quoteMine, '--catalogue', zero, '--log-level', 'error'], env());
    expect(z.code, z.stdout + z.stderr).toBe(0);
    expect(z.stderr).toContain(`${loud}--catalogue ${ownLine(zero, '5 credits)')}, and it spends with PHAYA_API_KEY`);
    // MY_KEY=$PHAYA_API_KEY: no shipped variable name to recognise, named all the same.
    const other = mine({ auth: { type: 'bearer', env: 'MY_KEY' } });
    const o = await runPiped(
      quoteMine,
      env({ MEDIAGEN_CATALOGUES: other, MY_KEY: sandbox.key, MEDIAGEN_LOG_LEVEL: 'error' }),
    );
    expect(o.code, o.stdout + o.stderr).toBe(0);
    expect(o.stderr).toContain(`${loud}MEDIAGEN_CATALOGUES ${ownLine(other, '5 credits)')}\n`);
    // The Acme fixture with its own key and usual rules: still the operator's file deciding, so still named.
    const own = await runPiped(
      ['quote', 'acme_image_create', 'prompt=a kite', '--catalogue', ACME_FILE, '--log-level', 'error'],
      env({ ACME_API_KEY: 'k' }),
    );
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain(`${loud}--catalogue acme_image_create comes from your own catalogue ${ACME_FILE}`);
    expect(posts()).toBe(before);
  });

  it('quote names the loosening too, a priced call with no loosening prints no such line, and --help says so', async () => {
    const q = await runPiped(['quote', ...SEEDANCE.slice(1), '--consent-off', 'phaya', '--log-level', 'error'], env());
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toContain(`${loud}--consent-off phaya`);
    const plain = await runPiped(SEEDANCE, env());
    expect(plain.code).toBe(3);
    expect(plain.stderr).not.toContain(loud);
    // --help says so, both on its own and after a command word.
    for (const args of [['--help'], ['call', '--help']]) {
      const help = await runPiped(args, env());
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain('"mediagen-mcp: CONSENT LOOSENED: ..." on stderr for each, whatever --log-level');
    }
  });
});
