/**
 * Guard fields follow the running configuration: confirm_token is listed (and accepted) only where a call
 * can need consent, idempotency_key only where a call creates a job or charges.
 */
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { connectInMemory } from '../helpers/in-memory.js';

async function listed(argv: string[]) {
  const c = await connectInMemory(argv);
  const tools = (await c.client.listTools()).tools;
  const keys = (name: string) => Object.keys(tools.find((t) => t.name === name)?.inputSchema.properties ?? {});
  return { ...c, tools, keys };
}

describe('guard fields under the running configuration', () => {
  it('default: a 1-credit tool has no confirm_token, Veo and unknown prices have it, free reads have neither', async () => {
    const { keys, close } = await listed([]);
    expect(keys('phaya_text_to_image')).not.toContain('confirm_token');
    expect(keys('phaya_text_to_image')).toContain('idempotency_key');
    expect(keys('phaya_veo31_video')).toEqual(expect.arrayContaining(['confirm_token', 'idempotency_key']));
    expect(keys('mediaio_i2v_kling_v3_0')).toContain('confirm_token');
    expect(keys('phaya_user_credits')).not.toContain('confirm_token');
    expect(keys('phaya_user_credits')).not.toContain('idempotency_key');
    await close();
  });

  it('--confirm all lists confirm_token on every paid tool', async () => {
    const { tools, close } = await listed(['--confirm', 'all']);
    // jobs_track writes but charges nothing: no guard fields; mediagen_approve runs a call consented to already.
    const unguarded = ['jobs_track', 'mediagen_approve'];
    for (const t of tools.filter((x) => x.annotations?.destructiveHint === false && !unguarded.includes(x.name)))
      expect(Object.keys(t.inputSchema.properties ?? {}), t.name).toContain('confirm_token');
    await close();
  });

  it('--consent-off phaya lists no confirm_token on Phaya tools, and the validator refuses one', async () => {
    const { tools, client, close } = await listed(['--consent-off', 'phaya']);
    for (const t of tools.filter((x) => x.name.startsWith('phaya_')))
      expect(Object.keys(t.inputSchema.properties ?? {}), t.name).not.toContain('confirm_token');
    const r = (await client.callTool({
      name: 'quote',
      arguments: { tool: 'phaya_veo31_video', arguments: { prompt: 'a cat', confirm_token: 'x' } },
    })) as CallToolResult;
    expect((r.content[0] as { text: string }).text).toMatch(/unknown argument\(s\) confirm_token .*accepted: /);
    await close();
  });
});
