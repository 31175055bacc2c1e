/**
 * The OAuth policy file (`--oauth-policy`): per-principal settings of OAuth principals, who are not
 * known at start. An entry is chosen by the token's subject (the principal claim), else by the first
 * group in file order that the group claim holds, else the defaults, which may refuse everyone else.
 * Settings are the tokens file's (caps, consent, toolsets, tools, readOnly, previews, providerKeys);
 * provider keys are named by environment variable, never written in the file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { zodFail } from '../catalogue/load.js';
import { StartupError } from '../errors.js';
import { checkProviderKeys, PrincipalSettingsSchema, type Principal, type PrincipalSettings } from '../principals.js';
import type { AuthGrant } from './types.js';

/** A principal or group name as a token may carry it: 1-256 characters, no control characters. */
// eslint-disable-next-line no-control-regex
const NAME = /^[^\u0000-\u001f\u007f-\u009f]{1,256}$/;
const name = z
  .string()
  .regex(NAME, '1-256 characters without control characters')
  // JSON.parse makes "__proto__" an own key, but copying it into an object sets the prototype instead.
  .refine((n) => n !== '__proto__', '"__proto__" is not supported as a name');

/**
 * JavaScript orders object keys that are whole numbers (array indices) before all others, so a group
 * named "42" cannot keep its place in file order, on which the choice among groups depends.
 */
const INDEX_LIKE = /^(0|[1-9]\d{0,9})$/;
const groupName = name.refine(
  (g) => !INDEX_LIKE.test(g) || Number(g) > 4294967294,
  'a group named by a whole number loses its place in file order (JSON objects in JavaScript): not supported',
);

const Defaults = PrincipalSettingsSchema.extend({ refuse: z.literal(true).optional() }).superRefine((d, ctx) => {
  if (d.refuse && Object.keys(d).length > 1)
    ctx.addIssue({ code: 'custom', path: ['refuse'], message: '"refuse": true takes no settings beside it' });
});

export const PolicyFileSchema = z
  .object({
    version: z.literal(1),
    /** The top-level claim naming the principal's groups or roles: a string or an array of strings. */
    groupClaim: z.string().min(1).default('groups'),
    /** Everyone with neither a subject entry nor a group entry: settings, or `{ "refuse": true }`. */
    defaults: Defaults,
    subjects: z.record(name, PrincipalSettingsSchema).default({}),
    groups: z.record(groupName, PrincipalSettingsSchema).default({}),
  })
  .strict();

export type PolicyFile = z.infer<typeof PolicyFileSchema>;

/** The chosen entry: `key` names it ("subject:<p>", "group:<g>", "defaults"); apps are built per key. */
export type PolicyResolution = { key: string; principal: Principal } | { refused: string };

/** Read and validate a policy file; a StartupError names the file and the JSON pointer. */
export function readPolicyFile(file: string, env: Readonly<Record<string, string | undefined>>): PolicyFile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StartupError(`${file}: ${(e as Error).message}`);
  }
  const parsed = PolicyFileSchema.safeParse(doc);
  if (!parsed.success) zodFail(file, parsed.error);
  const policy = parsed.data;
  checkProviderKeys(file, ['defaults'], policy.defaults, env);
  for (const [s, settings] of Object.entries(policy.subjects)) checkProviderKeys(file, ['subjects', s], settings, env);
  for (const [g, settings] of Object.entries(policy.groups)) checkProviderKeys(file, ['groups', g], settings, env);
  return policy;
}

/** The groups a grant's claim holds: a string is one group, an array's strings are several. */
function groupsOf(claims: AuthGrant['claims'], claim: string): ReadonlySet<string> {
  const v = Object.prototype.hasOwnProperty.call(claims, claim) ? claims[claim] : undefined;
  if (typeof v === 'string') return new Set([v]);
  if (Array.isArray(v)) return new Set(v.filter((x): x is string => typeof x === 'string'));
  return new Set();
}

/**
 * The settings a grant is served with. Without a policy file every principal gets the server's own
 * settings (key "defaults"). The subject entry wins, then the first group in file order, then the
 * defaults; `{ refused }` says why, for the log and the 403 (it names no claim value). A machine grant
 * (a client acting for itself) is served only by its own subject entry: no group, no defaults.
 */
export function resolvePolicy(policy: PolicyFile | undefined, grant: AuthGrant): PolicyResolution {
  const id = grant.principal;
  const as = (key: string, settings: PrincipalSettings): PolicyResolution => ({
    key,
    principal: { ...structuredClone(settings), id, tokenSha256: [] },
  });
  const named = policy !== undefined && Object.prototype.hasOwnProperty.call(policy.subjects, id);
  if (grant.machine && !named)
    return {
      refused:
        'a client acting for itself (a client credentials token) is served only when the server policy names it under "subjects"',
    };
  if (!policy) return as('defaults', {});
  if (named) return as(`subject:${id}`, policy.subjects[id]!);
  const held = groupsOf(grant.claims, policy.groupClaim);
  for (const [g, settings] of Object.entries(policy.groups)) if (held.has(g)) return as(`group:${g}`, settings);
  if (policy.defaults.refuse) return { refused: 'this principal is not in the server policy' };
  const settings: PrincipalSettings = { ...policy.defaults };
  delete (settings as { refuse?: true }).refuse;
  return as('defaults', settings);
}
