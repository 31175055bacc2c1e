/**
 * The skill as Agent Skills clients and OpenClaw load it: one skill (the root SKILL.md, name
 * mediagen-mcp) whose provider guides are references/*.md without front matter, tables generated from the
 * catalogues and never stale. (CI also runs the pinned skills-ref validator on the shipped folders.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const skill = readFileSync(join(ROOT, 'SKILL.md'), 'utf8');
const [, front = '', body = ''] = /^---\n([^]*?)\n---\n([^]*)$/.exec(skill) ?? [];
const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(front)?.[1];

describe('skill', () => {
  it('has the required and optional Agent Skills fields, within their limits', () => {
    expect(field('name')).toBe('mediagen-mcp');
    expect(field('description')!.length).toBeLessThanOrEqual(1024);
    expect(field('license')).toBe('MIT');
    expect(field('compatibility')!.length).toBeLessThanOrEqual(500);
    expect(front.split('\n').map((l) => l.split(':')[0])).toEqual([
      'name',
      'description',
      'license',
      'compatibility',
      'metadata',
    ]);
  });

  it('carries OpenClaw metadata on one line of JSON: npm install, node needed, no key required', () => {
    const meta = JSON.parse(field('metadata')!) as {
      openclaw: { requires: Record<string, unknown>; install: { kind: string; package: string; bins: string[] }[] };
    };
    expect(meta.openclaw.install).toEqual([expect.objectContaining({ kind: 'node', package: 'mediagen-mcp' })]);
    expect(meta.openclaw.install[0].bins).toEqual(['mediagen-mcp']);
    expect(meta.openclaw.requires).toEqual({ bins: ['node'] }); // any one key, or the sandbox, is enough
  });

  it('names the set-up for every client in its body', () => {
    for (const line of ['claude mcp add mediagen', 'openclaw mcp set mediagen', 'cmd', '/c npx -y mediagen-mcp'])
      expect(body).toContain(line);
  });

  it('links every provider guide, which exists and has no front matter', () => {
    const links = [...body.matchAll(/\]\((references\/[a-z0-9]+\.md)\)/g)].map((m) => m[1]);
    expect(links).toEqual(['references/mediaio.md', 'references/phaya.md', 'references/ph0ny.md']);
    for (const link of links) {
      expect(existsSync(join(ROOT, link)), link).toBe(true);
      expect(readFileSync(join(ROOT, link), 'utf8').startsWith('---'), link).toBe(false);
    }
  });

  it('is the only SKILL.md shipped (OpenClaw stops discovery below the first one)', () => {
    const found = readdirSync(ROOT, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /^skill\.md$/i.test(e.name))
      .map((e) => join(e.parentPath, e.name).slice(ROOT.length))
      .filter((f) => !/^(node_modules|\.cache|dist|\.git)\//.test(f));
    expect(found).toEqual(['SKILL.md']);
  });

  it('has provider tables that match the catalogues (node scripts/skill-tables.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/skill-tables.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
