/**
 * What a strict client's null does on the money path, for the two kinds of optional field (the shapes test
 * catalogue, a loopback provider that records each body): a catalogue param marked `nullable` keeps null as
 * a value (sent as null and priced as null), while an optional field that does not take null reads null as
 * "not given" (dropped, its default sent and priced). Built server over stdio, a real SDK Client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sc } from '../helpers/money.js';
import { ROOT } from '../helpers/paths.js';
import { spawnStdio, text, type StdioServer } from '../helpers/stdio.js';

const TOOL = 'shapes_priced_shape';
const KEY = 'shapes-test-key';
const bodies: unknown[] = [];
let provider: Server;
let server: StdioServer;

beforeAll(async () => {
  provider = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.headers.authorization === `Bearer ${KEY}` && req.url === '/shapes/priced') bodies.push(JSON.parse(raw));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  const { port } = provider.address() as AddressInfo;
  server = await spawnStdio(
    { SHAPES_API_KEY: KEY, SHAPES_BASE_URL: `http://127.0.0.1:${port}`, MEDIAGEN_CONFIRM: 'all' },
    ['--catalogue', `${ROOT}test/fixtures/catalogues/strict-shapes.json`, '--tools', `${TOOL},quote`],
  );
}, 30_000);
afterAll(async () => {
  await server?.close();
  await new Promise((r) => provider?.close(r));
});

/** Call with consent: the first call answers with a token, the second redeems it. */
async function run(args: Record<string, unknown>) {
  const asked = await server.call(TOOL, args);
  expect(sc(asked).code, text(asked)).toBe('CONFIRMATION_REQUIRED');
  const ran = await server.call(TOOL, { ...args, confirm_token: sc(asked).confirm_token });
  expect(ran.isError, text(ran)).toBeFalsy();
  return asked;
}

describe('a null for a nullable field is a value; for any other optional field it is "not given"', () => {
  it('quote: the nullable mode is priced as null (no documented price), the null quality as its default', async () => {
    const known = await server.call('quote', { tool: TOOL, arguments: { prompt: 'p', mode: 'b', quality: null } });
    expect(known.isError, text(known)).toBeFalsy();
    expect(sc(known).price).toMatchObject({ kind: 'exact', credits: 3 });
    const asNull = await server.call('quote', { tool: TOOL, arguments: { prompt: 'p', mode: null, quality: null } });
    expect(asNull.isError, text(asNull)).toBeFalsy();
    expect(sc(asNull).price).toMatchObject({
      kind: 'unknown',
      reason: 'no documented price for mode=null, quality=low',
    });
  });

  it('the call sends the nullable null as null and the other field with its default', async () => {
    bodies.length = 0;
    await run({ prompt: 'strict', mode: null, quality: null });
    await run({ prompt: 'loose', mode: 'a' });
    expect(bodies).toEqual([
      { prompt: 'strict', mode: null, quality: 'low' },
      { prompt: 'loose', mode: 'a', quality: 'low' },
    ]);
  });
});
