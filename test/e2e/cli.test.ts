import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { ACME_FILE, CLI } from '../helpers/paths.js';

/** Runs the CLI with a fresh state folder (never the user's own), unless the test names one. */
function run(args: string[], env: Record<string, string> = {}) {
  const state = mkdtempSync(join(tmpdir(), 'mediagen-cli-'));
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: state, ...env },
    encoding: 'utf8',
    input: '',
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mediagen-mcp command line', () => {
  it('--sandbox --list prints every Media.io tool with provider and price line, and exits 0', () => {
    const r = run(['--sandbox', '--list']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows.filter((l) => l.startsWith('mediaio_'))).toHaveLength(22);
    expect(rows.filter((l) => l.startsWith('phaya_'))).toHaveLength(28);
    expect(rows.filter((l) => l.startsWith('ph0ny_'))).toHaveLength(6);
    expect(rows.some((l) => l.includes('[no key]'))).toBe(false);
    expect(rows).toContain('phaya_veo31_video\tphaya\tPrice: 15 credits (veo3_fast) or 50 (veo3). Needs confirmation.');
    expect(rows).toContain('mediaio_i2v_kling_v3_0\tmediaio\tPrice: unknown; needs confirmation.');
    expect(rows.find((l) => l.startsWith('mediaio_user_credits\t'))).toBe('mediaio_user_credits\tmediaio\tFree.');
  });

  it('export-prices prints observed prices as a --prices overlay that --prices accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediagen-cli-'));
    const stateDir = join(dir, 'state');
    const store = await openStore({ stateDir });
    const o = { provider: 'mediaio', tool: 'mediaio_i2v_kling_v3_0', observedAt: Date.now() };
    await store.recordObservation({ ...o, priceKey: '{"duration":"5s"}', credits: 6 });
    await store.recordObservation({ ...o, priceKey: '{"duration":"10s"}', credits: 11 });
    await store.close();
    const r = run(['export-prices', '--state-dir', stateDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ prices: { mediaio_i2v_kling_v3_0: { credits: 11 } } });
    const file = join(dir, 'prices.json');
    writeFileSync(file, r.stdout);
    const list = run(['--sandbox', '--list', '--prices', file]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('mediaio_i2v_kling_v3_0\tmediaio\tPrice: 11 credits.');
  });

  it('adds a user catalogue with --catalogue', () => {
    const r = run(['--list', '--catalogue', ACME_FILE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('acme_image_create\tacme\tPrice: 2 credits (1K) or 3 (2K). [no key]');
  });

  it('stops with exit code 2 and one line naming the file and pointer for a bad catalogue, before serving', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediagen-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ provider: 'Bad Name', title: 'x' }));
    const r = run(['--catalogue', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^mediagen-mcp: ${file}: /provider: `));
  });

  it('stops with exit code 2 and one line for bad configuration', () => {
    const r = run([], { MEDIAGEN_HTTP_TIMEOUT_MS: '-5' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^mediagen-mcp: invalid httpTimeoutMs: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('stops with exit code 2 for an unknown tool name in --tools', () => {
    const r = run(['--tools', 'mediaio_nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown tool name\(s\) in --tools: mediaio_nope/);
  });

  it('stops with exit code 2 for a bad price overlay, naming the file and pointer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediagen-prices-'));
    const unknownTool = join(dir, 'unknown-tool.json');
    writeFileSync(unknownTool, JSON.stringify({ prices: { mediaio_nope: { credits: 1 } } }));
    const r1 = run(['--list', '--prices', unknownTool]);
    expect(r1.code).toBe(2);
    expect(r1.stderr.trim()).toBe(`mediagen-mcp: ${unknownTool}: /prices/mediaio_nope: no tool named "mediaio_nope"`);
    const badRow = join(dir, 'bad-row.json');
    writeFileSync(
      badRow,
      JSON.stringify({ prices: { mediaio_t2i_imagen_4: { table: { by: ['counts'], rows: { '9': 1 } } } } }),
    );
    const r2 = run(['--list', '--prices', badRow]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/\/prices\/mediaio_t2i_imagen_4\/table\/rows\/9: "9" is not a value of "counts"/);
    const negative = join(dir, 'negative.json');
    writeFileSync(negative, JSON.stringify({ prices: { mediaio_t2i_imagen_4: { credits: -2 } } }));
    const r3 = run(['--list', '--prices', negative]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/\/prices\/mediaio_t2i_imagen_4\/credits: /);
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify({ prices: { mediaio_t2i_imagen_4: { credits: 2 } } }));
    expect(run(['--sandbox', '--list', '--prices', ok]).stdout).toContain(
      'mediaio_t2i_imagen_4\tmediaio\tPrice: 2 credits.',
    );
  });

  it('prints help and the version', () => {
    expect(run(['--help']).stdout).toMatch(/^Usage: mediagen-mcp/);
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('--version --verbose names Node and the SQLite driver in use', () => {
    const lines = run(['--version', '--verbose']).stdout.trim().split('\n');
    const major = Number(process.versions.node.split('.')[0]);
    const minor = Number(process.versions.node.split('.')[1]);
    const driver = major > 22 || (major === 22 && minor >= 13) ? 'node:sqlite' : 'better-sqlite3';
    expect(lines).toEqual([
      expect.stringMatching(/^mediagen-mcp \d+\.\d+\.\d+$/),
      `node ${process.versions.node}`,
      `sqlite driver: ${driver} (ok)`,
    ]);
  });
});
