/** The README's quick starts as written: every JSON block parses and starts this package's bin. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  engines: { node: string };
};
type Server = { command: string; args: string[]; env?: Record<string, string> };
/** Every JSON block parses; the client configs among them are the ones with mcpServers. */
const blocks = [...readme.matchAll(/```json\n([^]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
const configs = blocks.filter((b) => 'mcpServers' in b) as { mcpServers: Record<string, Server> }[];

describe('README quick starts', () => {
  it('has Claude Desktop, .mcp.json and Windows configs that all parse and run the package bin', () => {
    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const c of configs) {
      const s = c.mcpServers.mediagen!;
      const argv = [s.command, ...s.args];
      expect(argv.slice(-3)).toEqual(['npx', '-y', 'mediagen-mcp']);
      expect(Object.keys(pkg.bin)).toContain('mediagen-mcp');
      expect(['npx', 'cmd']).toContain(s.command);
      if (s.command === 'cmd') expect(s.args[0]).toBe('/c');
    }
  });

  it('keeps keys out of .mcp.json with ${VAR} expansion', () => {
    const expanded = configs.filter((c) =>
      Object.values(c.mcpServers.mediagen!.env ?? {}).some((v) => v.startsWith('${')),
    );
    expect(expanded).toHaveLength(1);
    expect(expanded[0]!.mcpServers.mediagen!.env!.MEDIAIO_API_KEY).toBe('${MEDIAIO_API_KEY}');
  });

  it('gives the Claude Code, OpenClaw and Windows commands and the Node requirement', () => {
    expect(readme).toContain('claude mcp add mediagen --env MEDIAIO_API_KEY=your-media.io-key -- npx -y mediagen-mcp');
    expect(readme).toContain('openclaw mcp set mediagen ');
    expect(readme).toContain('-- cmd /c npx -y mediagen-mcp');
    expect(readme).toMatch(/Node\.js 22\.13 or newer is recommended/);
    expect(pkg.engines.node).toBe('>=20.18');
  });
});
