import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/in-memory.js';
import { CLI } from '../helpers/paths.js';

/** Drive the server with raw JSON-RPC lines and check that stdout carries nothing else. */
describe('stdio mode writes nothing but JSON-RPC to stdout', () => {
  it('even in sandbox mode with debug logging, across list, calls, errors and shutdown', async () => {
    const child = spawn(process.execPath, [CLI, '--sandbox', '--log-level', 'debug'], {
      env: { PATH: process.env.PATH ?? '', MEDIAGEN_STATE_DIR: tempDir() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const send = (msg: object): void => void child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');
    const waitFor = async (...ids: number[]): Promise<void> => {
      for (let i = 0; i < 400 && !ids.every((id) => new RegExp(`"id":${id}[,}]`).test(out)); i++)
        await new Promise((r) => setTimeout(r, 25));
    };
    send({
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    await waitFor(1);
    send({ method: 'notifications/initialized' });
    send({ id: 2, method: 'tools/list' });
    send({ id: 3, method: 'tools/call', params: { name: 'mediaio_user_credits', arguments: {} } });
    send({ id: 4, method: 'tools/call', params: { name: 'mediaio_t2i_imagen_4', arguments: { prompt: 7 } } });
    send({ id: 5, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } });
    send({ id: 6, method: 'no/such/method' });
    await waitFor(2, 4, 5, 6); // id 3 is still in flight: closing stdin must not lose it
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    const lines = out.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) {
      const msg = JSON.parse(line) as { jsonrpc?: string };
      expect(msg.jsonrpc).toBe('2.0');
    }
    const ids = lines.map((l) => (JSON.parse(l) as { id?: number }).id).filter((x) => x !== undefined);
    expect(ids.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(err).toContain('sandbox mode');
    expect(code).toBe(0);
  });
});
