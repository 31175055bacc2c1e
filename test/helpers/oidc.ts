/**
 * A real authorization server for tests: test/fixtures/oidc-as.mjs (oidc-provider) in its own process on
 * loopback. Mints access tokens for a subject by client credentials, walks the authorization-code + PKCE
 * flow of a client with no person (the `login_as` interaction), rotates its signing key at run time, and
 * gives the resource server a client for its introspection endpoint.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export type TokenFormat = 'jwt' | 'opaque';

export interface StartAuthServerOptions {
  /** Format of every access token unless a mint asks otherwise (default jwt). */
  tokenFormat?: TokenFormat;
  /** Redirect URIs of the fixed public client (`publicClientId`); dynamic registration needs none. */
  redirectUris?: string[];
  /** 0 (default) for any free port, or a given one. */
  port?: number;
  /** An issuer path such as `/tenant`: the issuer is http://127.0.0.1:<port>/tenant, served only under it. */
  path?: string;
}

export interface MintOptions {
  /** The resource the token is for (RFC 8707 `resource`): its `aud`. */
  audience: string;
  /** The token's `sub` (default: the tests' client id, as client credentials give). */
  subject?: string;
  /** Scopes asked for (default: mediagen:read mediagen:generate); [] for none. */
  scopes?: string[];
  /** More claims, signed by the server as given: groups, or `exp` / `nbf` (seconds) to mint a stale token. */
  claims?: Record<string, unknown>;
  format?: TokenFormat;
  /** Protected header fields of a JWT access token (e.g. `typ`), signed by the server as given. */
  header?: Record<string, string>;
}

export interface AuthorizeOptions {
  /** Who logs in at the interaction. */
  subject: string;
}

export interface TestAuthServer {
  /** http://127.0.0.1:<port>[/path], exactly its metadata's `issuer`. */
  issuer: string;
  tokenEndpoint: string;
  introspectionEndpoint: string;
  jwksUri: string;
  registrationEndpoint: string;
  /** The tests' confidential client (client_credentials). */
  clientId: string;
  clientSecret: string;
  /** The resource server's client at the introspection endpoint (client_secret_basic). */
  rsClientId: string;
  rsClientSecret: string;
  /** A public client (PKCE, no secret) registered with `redirectUris`. */
  publicClientId: string;
  /** An access token from the token endpoint (client_credentials grant). */
  mintToken(o: MintOptions): Promise<string>;
  /**
   * Follows an authorization URL (as a client's `redirectToAuthorization` gets it) through the login and
   * consent interactions as `subject`; returns the code and the full redirect back to the client.
   */
  authorize(authorizationUrl: string | URL, o: AuthorizeOptions): Promise<{ code: string; redirect: URL }>;
  /** Signs with a new key from now on; the old ones stay in the JWKS unless `retire`. */
  rotateKey(o?: { retire?: boolean }): Promise<{ kid: string; kids: string[] }>;
  /** The kids the JWKS publishes now. */
  kids(): Promise<string[]>;
  /** Revokes a token the tests' client minted (RFC 7009): introspection says inactive from then on. */
  revoke(token: string): Promise<void>;
  /** The server's introspection answer for a token, asked as the resource server's client. */
  introspect(token: string): Promise<Record<string, unknown>>;
  /** The first stderr lines, for a failing test's message. */
  stderr(): string;
  stop(): Promise<void>;
}

const secret = (): string => randomBytes(18).toString('base64url');
const basic = (id: string, pw: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(pw)}`).toString('base64')}`;

export async function startAuthServer(o: StartAuthServerOptions = {}): Promise<TestAuthServer> {
  const ids = {
    clientId: 'mediagen-tests',
    clientSecret: secret(),
    rsClientId: 'mediagen-rs',
    rsClientSecret: secret(),
    publicClientId: 'mediagen-public',
  };
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [join(ROOT, 'test/fixtures/oidc-as.mjs')], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      OIDC_AS_PORT: String(o.port ?? 0),
      OIDC_AS_PATH: o.path ?? '',
      OIDC_AS_TOKEN_FORMAT: o.tokenFormat ?? 'jwt',
      OIDC_AS_CLIENT_ID: ids.clientId,
      OIDC_AS_CLIENT_SECRET: ids.clientSecret,
      OIDC_AS_RS_CLIENT_ID: ids.rsClientId,
      OIDC_AS_RS_CLIENT_SECRET: ids.rsClientSecret,
      OIDC_AS_PUBLIC_CLIENT_ID: ids.publicClientId,
      OIDC_AS_REDIRECT_URIS: (o.redirectUris ?? []).join(','),
    },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 20_000) err += d.toString();
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const nextLine = (what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const queued = lines.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error(`oidc-as: no ${what} within 20 s\n${err}`)), 20_000);
      void exit.then(() => reject(new Error(`oidc-as exited before ${what}\n${err}`)));
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const issuer = await nextLine('issuer line');
  if (!/^http:\/\/127\.0\.0\.1:\d+(?:\/[\w-]+)*$/.test(issuer)) throw new Error(`oidc-as printed ${issuer}\n${err}`);

  // Commands go one at a time: each answer is the next JSON line.
  let queue: Promise<unknown> = Promise.resolve();
  const command = <T>(msg: Record<string, unknown>): Promise<T> => {
    const run = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(msg)}\n`);
      const answer = JSON.parse(await nextLine(`answer to ${String(msg.cmd)}`)) as { ok: boolean; error?: string };
      if (!answer.ok) throw new Error(`oidc-as ${String(msg.cmd)}: ${answer.error}`);
      return answer as T;
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const { origin, pathname } = new URL(issuer);
  const issuerPath = pathname.replace(/\/+$/, '');
  const tokenEndpoint = `${issuer}/token`;
  const introspectionEndpoint = `${issuer}/token/introspection`;

  const mintToken = async (m: MintOptions): Promise<string> => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', resource: m.audience });
    const scopes = m.scopes ?? ['mediagen:read', 'mediagen:generate'];
    if (scopes.length) form.set('scope', scopes.join(' '));
    const claims = { ...(m.subject !== undefined ? { sub: m.subject } : {}), ...m.claims };
    const headers: Record<string, string> = {
      authorization: basic(ids.clientId, ids.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    };
    if (Object.keys(claims).length) headers['x-test-claims'] = JSON.stringify(claims);
    if (m.format) headers['x-test-format'] = m.format;
    if (m.header) headers['x-test-header'] = JSON.stringify(m.header);
    const res = await fetch(tokenEndpoint, { method: 'POST', headers, body: form });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || typeof body.access_token !== 'string')
      throw new Error(`oidc-as token endpoint ${res.status}: ${JSON.stringify(body)}`);
    return body.access_token;
  };

  const authorize = async (
    authorizationUrl: string | URL,
    a: AuthorizeOptions,
  ): Promise<{ code: string; redirect: URL }> => {
    const jar = new Map<string, string>();
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < 12; hop++) {
      if (url.origin !== origin) {
        const code = url.searchParams.get('code');
        if (!code) throw new Error(`authorization ended without a code: ${url.href}`);
        return { code, redirect: url };
      }
      if (url.pathname.startsWith(`${issuerPath}/interaction/`)) url.searchParams.set('login_as', a.subject);
      const res = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        const value = pair.slice(i + 1);
        if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(pair.slice(0, i));
        else jar.set(pair.slice(0, i), value);
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location)
        throw new Error(`authorization stopped at ${url.pathname}: ${res.status} ${await res.text()}`);
      url = new URL(location, url);
    }
    throw new Error('authorization: too many redirects');
  };

  return {
    issuer,
    tokenEndpoint,
    introspectionEndpoint,
    jwksUri: `${issuer}/jwks`,
    registrationEndpoint: `${issuer}/reg`,
    ...ids,
    mintToken,
    authorize,
    rotateKey: (r = {}) => command<{ kid: string; kids: string[] }>({ cmd: 'rotate', retire: r.retire === true }),
    kids: async () => (await command<{ kids: string[] }>({ cmd: 'jwks' })).kids,
    revoke: async (token) => {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          authorization: basic(ids.clientId, ids.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      if (!res.ok) throw new Error(`oidc-as revocation ${res.status}: ${await res.text()}`);
    },
    introspect: async (token) => {
      const res = await fetch(introspectionEndpoint, {
        method: 'POST',
        headers: {
          authorization: basic(ids.rsClientId, ids.rsClientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as Record<string, unknown>;
    },
    stderr: () => err,
    stop: async () => {
      if (exited) return;
      child.stdin.end();
      child.kill('SIGTERM');
      await exit;
    },
  };
}
