/**
 * `npm run demo`: start the server in sandbox mode (no key, no network, no spend), connect a real MCP
 * client over stdio and walk through what an agent does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

const out = (line = ''): boolean => process.stdout.write(line + '\n');
const textOf = (r: CallToolResult): string => r.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');

function show(label: string, r: CallToolResult): void {
  out(`${label}${r.isError ? ' (isError)' : ''}`);
  for (const line of textOf(r).split('\n')) out(`   ${line}`);
}

async function main(): Promise<void> {
  const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), 'mediagen-demo-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, '--sandbox', '--log-level', 'warn', '--state-dir', join(scratch, 'state')],
    env: { ...getDefaultEnvironment(), MEDIAGEN_OUTPUT_DIR: join(scratch, 'output') },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'mediagen-demo', version: '1.0.0' });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  try {
    out('== mediagen-mcp demo (sandbox: no key, no network, no spend) ==');
    const { tools } = await client.listTools();
    out(`\n1. tools/list: ${tools.length} tools, e.g.`);
    for (const t of tools.filter((x) => x.name.includes('veo')))
      out(`   ${t.name}: ${t.description?.split('\n').join(' | ')}`);

    show('\n2. models {family: "veo"} ->', await call('models', { family: 'veo' }));
    show('\n   phaya_user_credits ->', await call('phaya_user_credits'));

    const tool = 'phaya_veo31_video';
    const args = { prompt: 'The lighthouse beam sweeps across a stormy sea', model: 'veo3_fast' };
    show(`\n3. quote ${tool} ->`, await call('quote', { tool, arguments: args }));

    const refused = await call(tool, args);
    show(`\n4. ${tool} (no consent yet) ->`, refused);
    const token = (refused.structuredContent as { confirm_token?: string } | undefined)?.confirm_token;
    if (!token) throw new Error('expected a CONFIRMATION_REQUIRED reply with a confirm_token');

    out('\n   (the person approves the charge; the agent repeats the call with the token)');
    const created = await call(tool, { ...args, confirm_token: token });
    show(`\n5. ${tool} + confirm_token ->`, created);
    if (created.isError) throw new Error('the demo job was not created');
    const job = created.structuredContent as { job_id: string; provider_job_id: string };
    out(`\njob id: ${job.job_id} (provider job ${job.provider_job_id})`);

    const done = await call('jobs_wait', { job_id: job.job_id, download: true });
    show('\n6. jobs_wait (download: true) ->', done);
    const outputs = (done.structuredContent as { outputs?: { url: string; path: string | null }[] }).outputs ?? [];
    if (done.isError || !outputs.length) throw new Error('the demo job did not finish with a result');
    out(`\nresult URL: ${outputs[0].url}`);
    out(`saved file: ${outputs[0].path}`);

    show('\n7. spend_report ->', await call('spend_report'));
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
