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

/** `--list`'s aligned rows as [name, provider, notes, price], by tool name. */
function listed(stdout: string): Map<string, string[]> {
  const rows = stdout.split('\n\n')[0].split('\n').slice(1);
  return new Map(rows.map((l) => l.split(/ {2,}/)).map((cells) => [cells[0], cells]));
}

describe('mediagen-mcp command line', () => {
  it('--sandbox --list prints the catalogue tools in aligned columns and says what it does not list', () => {
    const r = run(['--sandbox', '--list']);
    expect(r.code).toBe(0);
    const rows = listed(r.stdout);
    const names = [...rows.keys()];
    expect(names.filter((n) => n.startsWith('mediaio_'))).toHaveLength(22);
    expect(names.filter((n) => n.startsWith('phaya_'))).toHaveLength(28);
    expect(names.filter((n) => n.startsWith('ph0ny_'))).toHaveLength(6);
    expect([...rows.values()].some((c) => c[2].includes('no key'))).toBe(false);
    expect(rows.get('phaya_veo31_video')).toEqual([
      'phaya_veo31_video',
      'phaya',
      '-',
      '15 credits (veo3_fast) or 50 (veo3). Needs confirmation.',
    ]);
    expect(rows.get('mediaio_i2v_kling_v3_0')?.[3]).toBe('unknown; needs confirmation.');
    expect(rows.get('mediaio_user_credits')?.[3]).toBe('Free.');
    // aligned: every row's provider starts in the header's PROVIDER column
    const lines = r.stdout.split('\n\n')[0].split('\n');
    const col = lines[0].indexOf('PROVIDER');
    for (const l of lines.slice(1)) expect(l.slice(col).startsWith(rows.get(l.split(' ')[0])![1])).toBe(true);
    // what is not listed, and how to see it
    expect(r.stdout).toContain('56 catalogue tools listed.');
    expect(r.stdout).toMatch(/Not listed: \d+ off by default \(turn one on by naming it in --tools\)\./);
    expect(r.stdout).toContain("Not listed: the server's own tools, served beside them: quote, models, spend_report");
    expect(r.stdout).toContain('Every tool a client is given, with its schema: mediagen-mcp list --json');
    expect(r.stdout).not.toContain('\t');
  });

  it('--list without keys marks each tool "no key" and points at the key variables and --sandbox', () => {
    const r = run(['--list']);
    expect(r.code).toBe(0);
    expect(listed(r.stdout).get('phaya_veo31_video')?.[2]).toBe('no key');
    expect(r.stdout).toMatch(/marked "no key" \(set the provider's key variable, or try --sandbox\)/);
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
    expect(listed(list.stdout).get('mediaio_i2v_kling_v3_0')?.[3]).toMatch(/^11 credits\./);
  });

  it('adds a user catalogue with --catalogue', () => {
    const r = run(['--list', '--catalogue', ACME_FILE]);
    expect(r.code).toBe(0);
    expect(listed(r.stdout).get('acme_image_create')).toEqual([
      'acme_image_create',
      'acme',
      'no key',
      '2 credits (1K) or 3 (2K).',
    ]);
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
    expect(listed(run(['--sandbox', '--list', '--prices', ok]).stdout).get('mediaio_t2i_imagen_4')?.[3]).toBe(
      '2 credits.',
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
