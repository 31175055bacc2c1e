#!/usr/bin/env node
/**
 * MCP conformance under `--auth oauth`. Run with Node >= 22 (`"$(bash .ci/node-bin.sh 22)" .ci/conformance-oauth.mjs`
 * after `npm run build`): the suite and oidc-provider need it; the server runs on the system `node`.
 *
 * @modelcontextprotocol/conformance 0.1.16 has no server scenario about authorization: its `auth/*`
 * scenarios all test an OAuth *client* against the suite's own mock authorization and resource servers,
 * and its server runner sends no credentials. So this script does two things:
 *  1. checks, against a real authorization server (test/fixtures/oidc-as.mjs, oidc-provider in its own
 *     process), what those client scenarios expect a resource server to do: the RFC 9728 metadata at
 *     both paths, the 401 `WWW-Authenticate` with `resource_metadata` and `scope`, `invalid_token` for a
 *     bad or foreign-audience token, `insufficient_scope` for a token without a mediagen scope;
 *  2. runs the suite's server scenarios through a loopback proxy that adds a valid access token, so every
 *     protocol scenario passes through the OAuth guard; failures not in test/conformance/baseline.yml fail.
 * The proxy's URL is the server's --public-url, so the token's audience is the URL the suite talks to.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCOPES = 'mediagen:read mediagen:generate';
const children = [];
const state = mkdtempSync(join(tmpdir(), 'mediagen-conformance-oauth-'));
let failed = 0;

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(state, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function check(name, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `: ${detail}`}`);
  if (!ok) failed++;
}

/** Spawn and resolve with the first line of `stream` matching `pattern` (bounded wait). */
function startAndWait(cmd, args, env, stream, pattern, what) {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not ready within 30 s\n${log}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${what} exited (${code})\n${log}`)));
    child.stderr.on('data', (d) => (log += d));
    createInterface({ input: stream === 'stdout' ? child.stdout : child.stderr }).on('line', (line) => {
      if (stream === 'stdout') log += `${line}\n`;
      const m = line.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m[1] ?? m[0] });
      }
    });
  });
}

// ---- the authorization server
const ids = { clientId: 'mediagen-tests', clientSecret: randomBytes(18).toString('base64url') };
const { match: issuer } = await startAndWait(
  process.execPath,
  ['test/fixtures/oidc-as.mjs'],
  {
    NODE_ENV: 'test',
    OIDC_AS_PORT: '0',
    OIDC_AS_CLIENT_ID: ids.clientId,
    OIDC_AS_CLIENT_SECRET: ids.clientSecret,
    OIDC_AS_RS_CLIENT_ID: 'mediagen-rs',
    OIDC_AS_RS_CLIENT_SECRET: randomBytes(18).toString('base64url'),
    OIDC_AS_PUBLIC_CLIENT_ID: 'mediagen-public',
    OIDC_AS_REDIRECT_URIS: '',
  },
  'stdout',
  /^http:\/\/127\.0\.0\.1:\d+$/,
  'oidc-as',
);

// ---- the proxy (its URL is the public URL); the target is set once the server listens
let target;
let token = '';
const proxy = createServer((req, res) => {
  const headers = { ...req.headers };
  if (!headers.authorization && token) headers.authorization = `Bearer ${token}`;
  const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.headersSent || res.writeHead(502).end());
  req.pipe(up);
  res.on('close', () => up.destroy());
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const publicUrl = `http://127.0.0.1:${proxy.address().port}`;
const resource = `${publicUrl}/mcp`;
const prmUrl = `${publicUrl}/.well-known/oauth-protected-resource/mcp`;

// ---- the server. The suite's token is a client's own (client_credentials): such a token is served only
// when the policy file names its subject.
const policyFile = join(state, 'policy.json');
writeFileSync(policyFile, JSON.stringify({ version: 1, defaults: { refuse: true }, subjects: { [ids.clientId]: {} } }));
// ---- the server
const { match: serverMcp } = await startAndWait(
  'node',
  [
    'dist/cli.js',
    '--transport',
    'http',
    '--port',
    '0',
    '--sandbox',
    '--state-dir',
    state,
    '--http-rate',
    'off',
    '--auth',
    'oauth',
    '--oauth-issuer',
    issuer,
    '--public-url',
    publicUrl,
    '--oauth-policy',
    policyFile,
    // Browsers reach it at the public URL (the proxy): that origin is its own, as on a real deployment.
    '--allowed-origins',
    publicUrl,
  ],
  {},
  'stderr',
  // The listening line (other lines may name the public URL, which is the proxy's).
  /serving MCP over Streamable HTTP on (http:\/\/127\.0\.0\.1:\d+\/mcp)/,
  'mediagen-mcp',
);
target = new URL(serverMcp);

async function mint(audience, scope) {
  const basic = Buffer.from(`${ids.clientId}:${ids.clientSecret}`).toString('base64');
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience, scope }),
  });
  const body = await res.json();
  if (!res.ok || typeof body.access_token !== 'string') throw new Error(`token endpoint ${res.status}`);
  return body.access_token;
}

/** An initialize POSTed straight to the server (not through the proxy), with the given Authorization. */
async function initialize(authorization) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (authorization) headers.authorization = authorization;
  const body = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'conformance-oauth', version: '1' },
    },
  };
  const res = await fetch(target, { method: 'POST', headers, body: JSON.stringify(body) });
  await res.body?.cancel();
  return { status: res.status, www: res.headers.get('www-authenticate') ?? '' };
}

// ---- 1. what the suite's auth scenarios expect of a resource server
for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
  const res = await fetch(new URL(path, target));
  const doc = res.ok ? await res.json() : {};
  check(
    `GET ${path}: RFC 9728 metadata`,
    res.status === 200 &&
      doc.resource === resource &&
      JSON.stringify(doc.authorization_servers) === JSON.stringify([issuer]) &&
      SCOPES.split(' ').every((s) => doc.scopes_supported?.includes(s)) &&
      JSON.stringify(doc.bearer_methods_supported) === '["header"]',
    `${res.status} ${JSON.stringify(doc)}`,
  );
}
const none = await initialize();
check(
  'no token: 401 with resource_metadata and scope',
  none.status === 401 &&
    none.www.startsWith('Bearer ') &&
    none.www.includes(`resource_metadata="${prmUrl}"`) &&
    none.www.includes(`scope="${SCOPES}"`) &&
    !none.www.includes('error='),
  `${none.status} ${none.www}`,
);
const junk = await initialize('Bearer not-a-token');
check(
  'a malformed token: 401 invalid_token',
  junk.status === 401 &&
    junk.www.includes('error="invalid_token"') &&
    junk.www.includes(`resource_metadata="${prmUrl}"`),
  `${junk.status} ${junk.www}`,
);
const foreign = await initialize(`Bearer ${await mint('http://127.0.0.1:9/mcp', SCOPES)}`);
check(
  'a token for another resource: 401 invalid_token',
  foreign.status === 401 && foreign.www.includes('error="invalid_token"'),
  `${foreign.status} ${foreign.www}`,
);
const unscoped = await initialize(`Bearer ${await mint(resource, 'other:read')}`);
check(
  'a token with no mediagen scope: 403 insufficient_scope naming mediagen:read',
  unscoped.status === 403 &&
    unscoped.www.includes('error="insufficient_scope"') &&
    unscoped.www.includes('scope="mediagen:read"'),
  `${unscoped.status} ${unscoped.www}`,
);
token = await mint(resource, SCOPES);
const good = await initialize(`Bearer ${token}`);
check('a valid token: initialize answers 200', good.status === 200, `${good.status} ${good.www}`);

// ---- 2. the suite's server scenarios through the proxy, with that token
console.log(`conformance (--auth oauth): ${process.version} against ${resource}`);
const suite = spawn(
  process.execPath,
  [
    'node_modules/@modelcontextprotocol/conformance/dist/index.js',
    'server',
    '--url',
    resource,
    '--expected-failures',
    'test/conformance/baseline.yml',
    '-o',
    join(state, 'results'),
  ],
  { cwd: ROOT, stdio: 'inherit' },
);
const code = await new Promise((resolve) => suite.on('exit', (c) => resolve(c ?? 1)));
proxy.close();
if (failed) console.error(`${failed} resource-server check(s) failed`);
process.exit(failed || code ? 1 : 0);
