/**
 * The skill as Agent Skills clients and OpenClaw load it: one skill, skills/mediagen-mcp (its folder named
 * like the skill, so it validates from a clone of any name), whose provider guides are references/*.md
 * without front matter, tables generated from the catalogues and never stale; its metadata a map of strings
 * (the Agent Skills spec; Claude Code drops any other form). The root SKILL.md is the same skill generated
 * from it in OpenClaw's form (metadata one JSON string), for OpenClaw and ClawHub installs of the
 * repository or package root. Checked
 * with the pinned Agent Skills reference library (skills-ref) itself; CI also runs its CLI on the shipped
 * folders and OpenClaw 2026.9.6 on the skill (.ci/openclaw.sh).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProperties, validate } from 'skills-ref';
import { describe, expect, it } from 'vitest';
import { loadCatalogues, SHIPPED_CATALOGUES } from '../../src/catalogue/load.js';
import { ROOT } from '../helpers/paths.js';

const SKILL_DIR = join(ROOT, 'skills/mediagen-mcp');
const body = readFileSync(join(SKILL_DIR, 'SKILL.md'), 'utf8').replace(/^---\n[^]*?\n---\n/, '');

interface OpenClawBlock {
  emoji?: string;
  primaryEnv?: string;
  requires: Record<string, unknown>;
  install?: unknown;
  homepage?: string;
}

describe('skill', () => {
  it('is the one skill under skills/, valid by skills-ref with its name equal to its folder', async () => {
    const names = readdirSync(join(ROOT, 'skills'), { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(names.map((e) => e.name)).toEqual(['mediagen-mcp']);
    expect(await validate(SKILL_DIR)).toEqual([]);
    const props = await readProperties(SKILL_DIR);
    expect(props.name).toBe('mediagen-mcp');
    expect(props.license).toBe('MIT');
    expect(props.description.length).toBeLessThanOrEqual(1024);
    expect(props.compatibility!.length).toBeLessThanOrEqual(500);
  });

  it('keeps metadata a map of strings (the spec), its openclaw entry OpenClaw JSON with no installer of an unpublished package', async () => {
    const { metadata } = await readProperties(SKILL_DIR);
    expect(metadata).toBeTypeOf('object');
    expect(Object.keys(metadata!)).toEqual(['openclaw']);
    for (const v of Object.values(metadata!)) expect(v).toBeTypeOf('string');
    const openclaw = JSON.parse(metadata!.openclaw) as OpenClawBlock;
    expect(openclaw.requires).toEqual({ bins: ['node'] }); // any one key, or the sandbox, is enough: no requires.env
    expect(openclaw.primaryEnv).toBe('MEDIAIO_API_KEY');
    expect(openclaw.emoji).toBe('🎬');
    // mediagen-mcp is not on the npm registry yet (E404): no `install` and no npmjs.com homepage.
    expect(openclaw.install).toBeUndefined();
    expect(openclaw.homepage).toBeUndefined();
  });

  it('gives the root copy OpenClaw\'s form: metadata one string holding {"openclaw": …}, the same block', async () => {
    const props = await readProperties(ROOT);
    expect(props.metadata).toBeTypeOf('string');
    const { metadata } = await readProperties(SKILL_DIR);
    expect(JSON.parse(props.metadata as unknown as string)).toEqual({ openclaw: JSON.parse(metadata!.openclaw) });
    expect(props.description).toBe((await readProperties(SKILL_DIR)).description);
  });

  it('builds the root copy from a CRLF source as from an LF one (scripts/skill-front.mjs)', async () => {
    const { rootSkill } = (await import(join(ROOT, 'scripts/skill-front.mjs'))) as {
      rootSkill: (source: string, dir: string) => string;
    };
    const source = readFileSync(join(SKILL_DIR, 'SKILL.md'), 'utf8');
    const lf = rootSkill(source, 'skills/mediagen-mcp');
    expect(rootSkill(source.replace(/\n/g, '\r\n'), 'skills/mediagen-mcp')).toBe(lf);
    expect(lf).toBe(readFileSync(join(ROOT, 'SKILL.md'), 'utf8'));
  });

  it('names every key variable of the shipped catalogues in its body, the declared primaryEnv among them', () => {
    const vars = loadCatalogues(SHIPPED_CATALOGUES).flatMap((cat) => {
      const c = cat as unknown as { auth?: { env?: string }; baseUrl?: { env?: string; required?: boolean } };
      return [c.auth?.env, c.baseUrl?.required ? c.baseUrl.env : undefined].filter((v): v is string => !!v);
    });
    expect(vars).toEqual(expect.arrayContaining(['MEDIAIO_API_KEY', 'PHAYA_API_KEY', 'PH0NY_API_KEY']));
    for (const v of [...vars, 'PHAYA_BASE']) expect(body, v).toContain(`\`${v}\``);
    expect(body).toMatch(/`PHAYA_BASE`[^.]*ending in `\/api\/v1`/);
  });

  it('names the set-up for every client in its body, from the registry and from a clone', () => {
    for (const line of [
      'claude mcp add mediagen',
      'openclaw mcp set mediagen',
      'openclaw skills install /path/to/mediagen-mcp`',
      'claude plugin marketplace add <repository-url-or-clone-path>',
      'claude plugin install mediagen-mcp@mediagen-mcp',
      'node /path/to/mediagen-mcp/dist/cli.js',
      'node /path/to/mediagen-mcp/dist/cli.js call',
      'node /path/to/mediagen-mcp/dist/cli.js --sandbox',
      '/c npx -y mediagen-mcp',
    ])
      expect(body).toContain(line);
  });

  it('says what STORE_UNAVAILABLE means for the caller: nothing sent, repeat later, same provider, jobs unaffected', () => {
    const at = body.indexOf('`STORE_UNAVAILABLE`');
    expect(at).toBeGreaterThan(0);
    const para = body.slice(at, body.indexOf('\n\n', at));
    for (const words of ['nothing was sent or charged', 'repeat the same call later', 'do not switch', 'unaffected'])
      expect(para, words).toContain(words);
  });

  it('links every provider guide, which exists and has no front matter', () => {
    const links = [...body.matchAll(/\]\((references\/[a-z0-9]+\.md)\)/g)].map((m) => m[1]);
    expect(links).toEqual(['references/mediaio.md', 'references/phaya.md', 'references/ph0ny.md']);
    for (const link of links) {
      expect(existsSync(join(SKILL_DIR, link)), link).toBe(true);
      expect(readFileSync(join(SKILL_DIR, link), 'utf8').startsWith('---'), link).toBe(false);
    }
    expect(existsSync(join(ROOT, 'references')), 'no second copy of the guides at the top').toBe(false);
  });

  it('has the root copy of the same skill and the plugin copy (its links into skills/), valid where named so', async () => {
    const found = readdirSync(ROOT, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /^skill\.md$/i.test(e.name))
      .map((e) => join(e.parentPath, e.name).slice(ROOT.length))
      .filter((f) => !/^(node_modules|\.cache|dist|\.git|test-output)\//.test(f))
      .sort();
    expect(found).toEqual(['SKILL.md', 'plugin/skills/mediagen-mcp/SKILL.md', 'skills/mediagen-mcp/SKILL.md']);
    // The Claude Code plugin's copy is a byte copy made by scripts/build-plugin.mjs (its --check keeps it so).
    expect(readFileSync(join(ROOT, 'plugin/skills/mediagen-mcp/SKILL.md'), 'utf8')).toBe(
      readFileSync(join(SKILL_DIR, 'SKILL.md'), 'utf8'),
    );
    const root = readFileSync(join(ROOT, 'SKILL.md'), 'utf8');
    const links = [...root.matchAll(/\]\(([^)]+\.md)\)/g)].map((m) => m[1]);
    expect(links).toEqual(['mediaio', 'phaya', 'ph0ny'].map((p) => `skills/mediagen-mcp/references/${p}.md`));
    // skills-ref wants the folder named like the skill: a clone named otherwise fails only on that, so the
    // repository's validated copy is skills/mediagen-mcp.
    const errors = await validate(ROOT);
    expect(errors.filter((e) => !/must match skill name/.test(e))).toEqual([]);
  });

  it('has generated files that match their sources (node scripts/skill-tables.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/skill-tables.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
