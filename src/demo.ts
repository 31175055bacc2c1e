/**
 * `npm run demo`: start the server in sandbox mode (no key, no network, no spend), connect a real MCP
 * client over stdio and walk through what an agent does.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

const out = (line = ''): boolean => process.stdout.write(line + '\n');
const textOf = (r: CallToolResult): string => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

async function main(): Promise<void> {
  const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, '--sandbox', '--log-level', 'warn'],
    stderr: 'inherit',
  });
  const client = new Client({ name: 'mediagen-demo', version: '1.0.0' });
  await client.connect(transport);
  try {
    out('== mediagen-mcp demo (sandbox: no key, no network, no spend) ==');
    const { tools } = await client.listTools();
    out(`\n1. tools/list: ${tools.length} tools, e.g.`);
    for (const t of tools.slice(0, 4)) out(`   ${t.name}: ${t.description?.split('\n').join(' | ')}`);

    const credits = (await client.callTool({ name: 'mediaio_user_credits', arguments: {} })) as CallToolResult;
    out(`\n2. mediaio_user_credits -> ${textOf(credits)}`);

    const args = { prompt: 'A lighthouse at dawn, watercolour', ratio: '16:9' };
    out(`\n3. mediaio_t2i_imagen_4 ${JSON.stringify(args)}`);
    const created = (await client.callTool({ name: 'mediaio_t2i_imagen_4', arguments: args })) as CallToolResult;
    out(`   -> ${textOf(created)}`);
    if (created.isError) throw new Error('the demo job was not created');
    const job = created.structuredContent as { provider_job_id: string };
    out(`\njob id: ${job.provider_job_id}`);
  } finally {
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
