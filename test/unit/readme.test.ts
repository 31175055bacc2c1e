/** The README's quick starts as written: every JSON block parses and starts this package's bin (or its source). */
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
const servers = blocks.filter((b) => 'mcpServers' in b) as { mcpServers: Record<string, Server> }[];
/** The local quick starts run the package itself; the hosted recipes reach a remote server. */
const configs = servers.filter((c) => 'mediagen' in c.mcpServers);

describe('README quick starts', () => {
  it('has Claude Desktop, .mcp.json and Windows configs that all parse and run the package bin or its source', () => {
    expect(pkg.bin['mediagen-mcp']).toBe('dist/cli.js');
    const registry = configs.filter((c) => c.mcpServers.mediagen!.command !== 'node');
    const source = configs.filter((c) => c.mcpServers.mediagen!.command === 'node');
    expect(registry.length).toBeGreaterThanOrEqual(2);
    expect(source.length).toBeGreaterThanOrEqual(3);
    for (const c of registry) {
      const s = c.mcpServers.mediagen!;
      expect([s.command, ...s.args].slice(-3)).toEqual(['npx', '-y', 'mediagen-mcp']);
      expect(['npx', 'cmd']).toContain(s.command);
      if (s.command === 'cmd') expect(s.args[0]).toBe('/c');
    }
    // From source: node and the clone's dist/cli.js (the bin), POSIX or Windows path.
    for (const c of source)
      expect(c.mcpServers.mediagen!.args).toEqual([expect.stringMatching(/mediagen-mcp[\\/]+dist[\\/]+cli\.js$/)]);
  });

  it('keeps keys out of .mcp.json with ${VAR} expansion', () => {
    const expanded = configs.filter((c) =>
      Object.values(c.mcpServers.mediagen!.env ?? {}).some((v) => v.startsWith('${')),
    );
    expect(expanded).toHaveLength(1);
    expect(expanded[0]!.mcpServers.mediagen!.env!.MEDIAIO_API_KEY).toBe('${MEDIAIO_API_KEY:-}');
  });

  it('gives the Claude Code, OpenClaw and Windows commands and the Node requirement', () => {
    expect(readme).toMatch(
      /claude mcp add mediagen --env MEDIAIO_API_KEY=your-media\.io-key .*-- node \/path\/to\/mediagen-mcp\/dist\/cli\.js/,
    );
    expect(readme).toContain('the same line ending `-- npx -y mediagen-mcp`');
    expect(readme).toContain('openclaw mcp set mediagen ');
    expect(readme).toContain('-- cmd /c npx -y mediagen-mcp');
    expect(readme).toMatch(/Node\.js 22\.13 or newer is recommended/);
    expect(pkg.engines.node).toBe('>=20.18');
  });
});

describe('README hosted recipes', () => {
  const url = 'https://mcp.example.com/mcp';

  it('has the OAuth section with the metadata path, the scopes and the policy file that readPolicyFile takes', async () => {
    const { PolicyFileSchema } = await import('../../src/auth/policy.js');
    const { PRM_PATH_MCP, SCOPES_SUPPORTED } = await import('../../src/auth/types.js');
    expect(readme).toContain('### OAuth (claude.ai, ChatGPT, …)');
    expect(readme).toContain(`resource_metadata="<public-url>${PRM_PATH_MCP}"`);
    expect(readme).toContain(`scope="${SCOPES_SUPPORTED.join(' ')}"`);
    const policies = blocks.filter((b) => 'groups' in b && 'defaults' in b);
    expect(policies).toHaveLength(1);
    expect(PolicyFileSchema.safeParse(policies[0]).success).toBe(true);
  });

  it('gives each client its recipe against the public /mcp URL', () => {
    expect(readme).toContain('https://claude.ai/api/mcp/auth_callback');
    expect(readme).toContain('https://claude.com/api/mcp/auth_callback');
    const messages = blocks.find((b) => 'mcp_servers' in b) as { mcp_servers: Record<string, string>[] };
    expect(messages.mcp_servers[0]).toMatchObject({ type: 'url', url, name: 'mediagen' });
    expect(messages.mcp_servers[0]).toHaveProperty('authorization_token');
    expect(readme).toContain('anthropic-beta: mcp-client-2025-04-04');
    const responses = blocks.find((b) => 'tools' in b && 'input' in b) as { tools: Record<string, unknown>[] };
    expect(responses.tools[0]).toMatchObject({ type: 'mcp', server_url: url });
    expect(responses.tools[0]!.headers).toEqual({ Authorization: 'Bearer <access token>' });
    expect(readme).toContain(`claude mcp add --transport http mediagen ${url} \\\n  --header "Authorization: Bearer `);
    const remote = servers.find((c) => 'mediagen-hosted' in c.mcpServers)!.mcpServers['mediagen-hosted']!;
    expect([remote.command, ...remote.args].slice(0, 4)).toEqual(['npx', '-y', 'mcp-remote', url]);
    expect(remote.args.slice(-2)).toEqual(['--header', 'Authorization:${MEDIAGEN_AUTH_HEADER}']);
    expect(remote.env!.MEDIAGEN_AUTH_HEADER).toMatch(/^Bearer /);
  });
});
