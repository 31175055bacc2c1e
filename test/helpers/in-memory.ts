import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createServer } from '../../src/server.js';
import { ToolHandler } from '../../src/tools/handler.js';
import { buildRegistry, type Registry } from '../../src/tools/registry.js';

/** A real SDK Client connected to a real server over the SDK's in-memory transport. */
export async function connectInMemory(
  argv: string[] = [],
  env: Record<string, string> = {},
  baseUrl = 'http://127.0.0.1:9',
): Promise<{ client: Client; registry: Registry; close: () => Promise<void> }> {
  const { config } = loadConfig(argv, env);
  const registry = buildRegistry(config, silentLogger, { override: () => ({ baseUrl, key: 'test-key' }) });
  const handler = new ToolHandler({ clients: registry.clients, logger: silentLogger });
  const { server } = createServer({ tools: registry.tools, handler, logger: silentLogger });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'contract-test', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  return {
    client,
    registry,
    close: async () => {
      await client.close();
      await server.close();
      await registry.close();
    },
  };
}
