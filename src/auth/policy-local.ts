/** Every OAuth principal gets the server's own settings (until the policy file is read). */
import type { Principal } from '../principals.js';
import type { AuthGrant } from './types.js';

export type PolicyFile = Record<string, never>;
export function readPolicyFile(file: string, env: Readonly<Record<string, string | undefined>>): PolicyFile {
  void file;
  void env;
  return {};
}
export function resolvePolicy(
  policy: PolicyFile | undefined,
  grant: AuthGrant,
): { key: string; principal: Principal } | { refused: string } {
  void policy;
  return { key: 'defaults', principal: { id: grant.principal, tokenSha256: [] } };
}
