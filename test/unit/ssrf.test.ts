/**
 * The download address guard on its own: which addresses are refused, and that a name is refused on the
 * address it resolves to before any connection is made (a custom resolver stands in for DNS; only a
 * loopback listener that counts connections is ever a real target).
 */
import type { LookupAddress } from 'node:dns';
import { readdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadOutput, DownloadIncomplete } from '../../src/jobs/download.js';
import { guardedAgent, refusalReason, type DownloadPolicy } from '../../src/jobs/ssrf.js';
import { tempDir } from '../helpers/in-memory.js';

describe('refusalReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['169.254.169.254', 'cloud metadata, link-local'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 inside IPv6)'],
    ['::ffff:7f00:1', 'loopback (IPv4 inside IPv6)'],
    ['::ffff:a9fe:a9fe', 'cloud metadata, link-local (IPv4 inside IPv6)'],
    ['::ffff:10.0.0.1', 'private (IPv4 inside IPv6)'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata, link-local (IPv4 inside IPv6)'],
    ['2002:c0a8:101::1', 'private (IPv4 inside IPv6)'],
  ])('refuses %s (%s)', (ip, why) => {
    expect(refusalReason(ip)).toBe(why);
  });

  it.each([['8.8.8.8'], ['172.32.0.1'], ['100.128.0.1'], ['2606:4700::1111'], ['::ffff:8.8.8.8']])(
    'lets the public address %s through',
    (ip) => {
      expect(refusalReason(ip)).toBeUndefined();
    },
  );
});

describe('guarded connections', () => {
  let target: { server: Server; port: number; connections: number };
  let drip: HttpServer;
  let dripPort = 0;
  beforeAll(async () => {
    const server = createServer((s) => {
      target.connections++;
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = { server, port: (server.address() as AddressInfo).port, connections: 0 };
    drip = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-length': 60 });
      const t = setInterval(() => res.write('x'), 1000);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => drip.listen(0, '127.0.0.1', r));
    dripPort = (drip.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => target.server.close(r));
    drip.closeAllConnections();
    await new Promise((r) => drip.close(r));
  });

  /** Download `url` as output `n` of job_t into `dir` through a guarded Agent for `policy`, closed after. */
  async function fetchInto(policy: DownloadPolicy, dir: string, url: string, n: number, timeoutMs: number) {
    const agent = guardedAgent(policy);
    try {
      return await downloadOutput(
        'job_t',
        n,
        { url, kind: 'image' },
        { dir, maxBytes: 1e6, timeoutMs, dispatcher: agent, policy },
      );
    } finally {
      await agent.close();
    }
  }

  /** A resolver that answers `address` for every name, and records the names asked. */
  function resolver(address: string, asked: string[]): DownloadPolicy['resolve'] {
    const fake = (host: string, _o: unknown, cb: (e: Error | null, a: LookupAddress[]) => void): void => {
      asked.push(host);
      cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
    };
    return fake as unknown as DownloadPolicy['resolve'];
  }

  it.each([
    [
      'metadata.internal.test',
      '169.254.169.254',
      /resolves to 169\.254\.169\.254, not a public address \(cloud metadata/,
    ],
    ['cdn.internal.test', '127.0.0.1', /resolves to 127\.0\.0\.1, not a public address \(loopback\)/],
    ['v6.internal.test', '::ffff:127.0.0.1', /not a public address \(loopback \(IPv4 inside IPv6\)\)/],
  ])('refuses %s resolving to %s before connecting', async (name, address, why) => {
    const asked: string[] = [];
    const policy: DownloadPolicy = {
      allowHosts: new Set(),
      allowOrigins: new Set(),
      resolve: resolver(address, asked),
    };
    const dir = tempDir();
    await expect(fetchInto(policy, dir, `http://${name}:${target.port}/x.png`, 1, 5000)).rejects.toThrow(why);
    expect(asked).toContain(name);
    expect(target.connections).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an allowed host:port (sandbox mode) goes through; another port on the same address does not', async () => {
    const policy: DownloadPolicy = { allowHosts: new Set(), allowOrigins: new Set([`127.0.0.1:${dripPort}`]) };
    const dir = tempDir();
    await expect(fetchInto(policy, dir, `http://127.0.0.1:${target.port}/x.png`, 1, 2000)).rejects.toThrow(/loopback/);
    expect(target.connections).toBe(0);
    // the allowed origin is reached (and its drip cut off by the deadline, leaving no temp file)
    const started = Date.now();
    await expect(fetchInto(policy, dir, `http://127.0.0.1:${dripPort}/x.png`, 2, 1500)).rejects.toBeInstanceOf(
      DownloadIncomplete,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readdirSync(dir)).toEqual([]);
  });
});
