// Tool-list weight: bytes and tokens (o200k via js-tiktoken, an approximation of what a model is charged)
// of every tool as tools/list serves it. Results -> bench/results/tool-weight.json.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { createApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { silentLogger } from '../dist/log.js';

const enc = new Tiktoken(o200k);
const { config } = loadConfig(['--sandbox'], { MEDIAGEN_STATE_DIR: mkdtempSync(join(tmpdir(), 'mediagen-weight-')) });
const app = await createApp(config, silentLogger, { override: (c) => ({ baseUrl: c.baseUrl.default, key: 'k' }) });
const { server } = app.createMcpServer('weight');
const [a, b] = InMemoryTransport.createLinkedPair();
const client = new Client({ name: 'weight', version: '1' });
await Promise.all([server.connect(a), client.connect(b)]);
const { tools } = await client.listTools();

const rows = tools.map((t) => {
  const json = JSON.stringify(t);
  return { name: t.name, bytes: Buffer.byteLength(json), tokens: enc.encode(json).length };
});
const sum = (k, list = rows) => list.reduce((n, r) => n + r[k], 0);
const byProvider = {};
for (const r of rows) {
  const p = /^(mediaio|phaya|ph0ny)_/.exec(r.name)?.[1] ?? 'server';
  (byProvider[p] ??= []).push(r);
}
const out = {
  benchmark: 'tool-weight',
  date: new Date().toISOString(),
  encoding: 'o200k_base (js-tiktoken)',
  tools: rows.length,
  totalBytes: sum('bytes'),
  totalTokens: sum('tokens'),
  avgTokensPerTool: Math.round((sum('tokens') / rows.length) * 10) / 10,
  byProvider: Object.fromEntries(
    Object.entries(byProvider).map(([p, list]) => [
      p,
      {
        tools: list.length,
        tokens: sum('tokens', list),
        avgTokensPerTool: Math.round((sum('tokens', list) / list.length) * 10) / 10,
      },
    ]),
  ),
  perTool: rows.sort((x, y) => y.tokens - x.tokens),
};
writeFileSync(new URL('./results/tool-weight.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
const { perTool, ...summary } = out;
console.log(JSON.stringify(summary, null, 2));
console.log(
  'heaviest:',
  perTool
    .slice(0, 5)
    .map((r) => `${r.name} ${r.tokens}`)
    .join(', '),
);
await client.close();
await app.close();
