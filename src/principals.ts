/**
 * Principals over HTTP: the tokens file (bearer token SHA-256 hash -> principal with optional caps,
 * consent settings, toolsets and provider keys named by environment variable), token lookup in
 * constant time, `token add`, and the Config each principal is served with. stdio has one principal,
 * `local`. Token values and provider key values never appear in the file, the store, results or logs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { pointer, zodFail } from './catalogue/load.js';
import type { Config } from './config.js';
import { StartupError } from './errors.js';

export const LOCAL_PRINCIPAL = 'local';

const credits = z.record(z.string().regex(/^[a-z0-9_]+$/), z.number().nonnegative());

/** A principal's settings over the server's: shared by the tokens file and the OAuth policy file. */
export const PrincipalSettingsShape = {
  caps: z.object({ session: credits.optional(), day: credits.optional() }).strict().optional(),
  consent: z
    .object({
      confirm: z.enum(['default', 'all']).optional(),
      mode: z.enum(['auto', 'elicitation', 'token', 'app-or-form']).optional(),
    })
    .strict()
    .optional(),
  toolsets: z.array(z.string().min(1)).optional(),
  tools: z.array(z.string().min(1)).optional(),
  readOnly: z.boolean().optional(),
  /** Inline previews of results for this principal (default: the server's --previews). */
  previews: z.enum(['thumbnail', 'off']).optional(),
  /** Catalogue key variable (e.g. PHAYA_API_KEY) -> the variable that holds this principal's key. */
  providerKeys: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string().regex(/^[A-Z_][A-Z0-9_]*$/)).optional(),
};

export const PrincipalSettingsSchema = z.object(PrincipalSettingsShape).strict();
export type PrincipalSettings = z.infer<typeof PrincipalSettingsSchema>;

const PrincipalSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'principal id: letters, digits, . _ @ - (1-64)'),
    tokenSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256')).default([]),
    ...PrincipalSettingsShape,
  })
  .strict();

export const TokensFileSchema = z
  .object({ version: z.literal(1).default(1), principals: z.array(PrincipalSchema).default([]) })
  .strict()
  .superRefine((doc, ctx) => {
    const ids = new Set<string>();
    const hashes = new Set<string>();
    doc.principals.forEach((p, i) => {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['principals', i, 'id'], message: 'duplicate id' });
      ids.add(p.id);
      p.tokenSha256.forEach((h, j) => {
        if (hashes.has(h))
          ctx.addIssue({ code: 'custom', path: ['principals', i, 'tokenSha256', j], message: 'duplicate hash' });
        hashes.add(h);
      });
    });
  });

export type TokensFile = z.infer<typeof TokensFileSchema>;
export type Principal = TokensFile['principals'][number];

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Read and validate a tokens file; StartupError naming the file and the JSON pointer. */
export function readTokensFile(file: string, env: Readonly<Record<string, string | undefined>>): TokensFile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StartupError(`${file}: ${(e as Error).message}`);
  }
  const parsed = TokensFileSchema.safeParse(doc);
  if (!parsed.success) zodFail(file, parsed.error);
  parsed.data.principals.forEach((p, i) => checkProviderKeys(file, ['principals', i], p, env));
  return parsed.data;
}

/** Every variable a principal's providerKeys names must be set: a StartupError naming file and pointer. */
export function checkProviderKeys(
  file: string,
  at: (string | number)[],
  settings: PrincipalSettings,
  env: Readonly<Record<string, string | undefined>>,
): void {
  for (const [name, from] of Object.entries(settings.providerKeys ?? {}))
    if (!env[from]?.trim())
      throw new StartupError(
        `${file}: ${pointer([...at, 'providerKeys', name])}: environment variable ${from} is not set`,
      );
}

/** Who holds this bearer token: every stored hash is compared, in constant time, whatever matches. */
export function authenticator(file: TokensFile): (token: string) => Principal | undefined {
  const entries = file.principals.flatMap((p) => p.tokenSha256.map((h) => ({ hash: Buffer.from(h, 'hex'), p })));
  return (token) => {
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | undefined;
    for (const e of entries) if (timingSafeEqual(presented, e.hash) && !found) found = e.p;
    return found;
  };
}

/** `token add <principal>`: append a new token's hash (creating the file), return the token (shown once). */
export function addToken(file: string, principalId: string, env: Readonly<Record<string, string | undefined>>): string {
  const doc: TokensFile = existsSync(file) ? readTokensFile(file, env) : { version: 1, principals: [] };
  const token = `mgt_${randomBytes(32).toString('base64url')}`;
  let p = doc.principals.find((x) => x.id === principalId);
  if (!p) {
    p = { id: principalId, tokenSha256: [] };
    doc.principals.push(p);
  }
  p.tokenSha256.push(sha256Hex(token));
  const checked = TokensFileSchema.safeParse(doc);
  if (!checked.success) zodFail(file, checked.error);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(checked.data, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return token;
}

/** The Config one principal is served with: its caps, consent, tools and provider keys over the server's. */
export function principalConfig(config: Config, p: Principal | undefined): Config {
  // Stateless HTTP cannot ask the client mid-request: consent goes by token, except where the operator
  // took the token out (app-or-form): that stays, and refuses what it cannot ask for.
  const stateless = (mode: Config['consent']): Config['consent'] => (mode === 'app-or-form' ? mode : 'token');
  if (!p) return config.stateless ? Object.freeze({ ...config, consent: stateless(config.consent) }) : config;
  const env: Record<string, string | undefined> = { ...config.env };
  for (const [name, from] of Object.entries(p.providerKeys ?? {})) env[name] = config.env[from];
  return Object.freeze({
    ...config,
    capSession: { ...config.capSession, ...p.caps?.session },
    capDay: { ...config.capDay, ...p.caps?.day },
    confirm: p.consent?.confirm ?? config.confirm,
    consent: config.stateless ? stateless(p.consent?.mode ?? config.consent) : (p.consent?.mode ?? config.consent),
    toolsets: p.toolsets ?? config.toolsets,
    tools: p.tools ?? config.tools,
    readOnly: p.readOnly ?? config.readOnly,
    previews: p.previews ?? config.previews,
    env: Object.freeze(env),
  });
}
