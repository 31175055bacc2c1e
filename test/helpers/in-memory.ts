import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';

export function tempDir(prefix = 'mediagen-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A real SDK Client connected to a real server over the SDK's in-memory transport. */
export async function connectInMemory(
  argv: string[] = [],
  env: Record<string, string> = {},
  options: {
    baseUrl?: (provider: string, defaultBase: string) => string;
    key?: string;
    client?: ConstructorParameters<typeof Client>[1];
    now?: () => number;
  } = {},
): Promise<{ client: Client; app: App; close: () => Promise<void> }> {
  const { config } = loadConfig(argv, { MEDIAGEN_STATE_DIR: tempDir(), ...env });
  const app = await createApp(config, silentLogger, {
    override: (cat) => ({
      baseUrl: options.baseUrl ? options.baseUrl(cat.provider, cat.baseUrl.default) : 'http://127.0.0.1:9',
      key: options.key ?? 'test-key',
    }),
    now: options.now,
  });
  const { server } = app.createMcpServer('in-memory-caller');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test-client', version: '1.0.0' }, options.client ?? {});
  await Promise.all([server.connect(a), client.connect(b)]);
  return {
    client,
    app,
    close: async () => {
      await client.close();
      await server.close();
      await app.close();
    },
  };
}
