/**
 * Load-time checks on the names a catalogue gives: providers and tools clear of the server's own tools
 * (and their prefixes), parameter and field names safe as property keys, response paths and records that
 * never reach into what every object inherits. Each refusal names the file and the JSON pointer.
 */
import type { Catalogue, Param } from './format.js';
import { fail } from './fail.js';
import { inheritedName, inheritedSegment, reservedPrefix, SERVER_TOOL_NAMES, unsafeParamName } from './names.js';

/** A provider name clear of the server tools' names and prefixes (checked before a catalogue is validated). */
export function checkProviderName(file: string, provider: string): void {
  // Settings keyed by provider (caps, consent thresholds, rate limits) are looked up by this name.
  if (inheritedName(provider))
    fail(file, ['provider'], `provider "${provider}" is a name every JavaScript object inherits`);
  const prefix = reservedPrefix(provider);
  if (prefix)
    fail(
      file,
      ['provider'],
      `provider "${provider}" is reserved: its tools would be named like the server's own ${prefix}… tools (reserved: ${SERVER_TOOL_NAMES.join(', ')} and every name starting with ${prefix}_)`,
    );
}

/** An environment variable name (key, base URL) that is looked up in the environment, never on its prototype. */
export function checkEnvName(file: string, path: readonly (string | number)[], name: string | undefined): void {
  if (name !== undefined && inheritedName(name))
    fail(file, path, `variable name "${name}" is a name every JavaScript object inherits`);
}

/** A tool name clear of the server tools' names and prefixes. */
export function checkToolName(file: string, path: readonly (string | number)[], tool: string): void {
  const prefix = SERVER_TOOL_NAMES.includes(tool) ? tool : reservedPrefix(tool);
  if (prefix) fail(file, path, `tool name "${tool}" is reserved for the server's own tools (${prefix}, ${prefix}_…)`);
  if (inheritedName(tool)) fail(file, path, `tool name "${tool}" is a name every JavaScript object inherits`);
}

function checkParamNames(file: string, at: (string | number)[], params: readonly Param[]): void {
  params.forEach((p, j) => {
    const bad = unsafeParamName(p.name);
    if (bad) fail(file, [...at, j, 'name'], bad);
    const seen = new Set<string>();
    (p.properties ?? []).forEach((f, k) => {
      const why = unsafeParamName(f.name);
      if (why) fail(file, [...at, j, 'properties', k, 'name'], why.replace(/^parameter/, 'field'));
      if (seen.has(f.name)) fail(file, [...at, j, 'properties', k, 'name'], `duplicate field "${f.name}"`);
      seen.add(f.name);
    });
  });
}

function checkPath(file: string, at: (string | number)[], path: string | undefined): void {
  const seg = path === undefined ? undefined : inheritedSegment(path);
  if (seg !== undefined)
    fail(file, at, `"${seg}" in ${JSON.stringify(path)} is a name every JavaScript object inherits, not a field`);
}

function checkKeys(file: string, at: (string | number)[], record: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(record))
    if (inheritedName(key)) fail(file, [...at, key], `"${key}" is a name every JavaScript object inherits`);
}

/** Every name check of one validated catalogue. */
export function checkNames(file: string, cat: Catalogue): void {
  checkProviderName(file, cat.provider);
  checkEnvName(file, ['auth', 'env'], cat.auth.env);
  checkEnvName(file, ['baseUrl', 'env'], cat.baseUrl.env);
  const env = cat.response.envelope;
  if (cat.request.wrap !== null) checkPath(file, ['request', 'wrap'], cat.request.wrap);
  checkPath(file, ['response', 'errorMessage'], cat.response.errorMessage);
  checkPath(file, ['balance', 'field'], cat.balance?.field);
  if (env) {
    for (const k of ['code', 'message', 'data', 'trace'] as const) checkPath(file, ['response', 'envelope', k], env[k]);
    checkKeys(file, ['response', 'envelope', 'errors'], env.errors);
  }
  cat.operations.forEach((op, i) => {
    const base = ['operations', i];
    checkToolName(file, [...base, 'id'], `${cat.provider}_${op.id}`);
    checkParamNames(file, [...base, 'params'], op.params);
    checkPath(file, [...base, 'response', 'text'], op.response?.text);
    checkPath(file, [...base, 'response', 'charged'], op.response?.charged);
    const job = op.job;
    if (!job) return;
    checkPath(file, [...base, 'job', 'idField'], job.idField);
    checkPath(file, [...base, 'job', 'status', 'field'], job.status.field);
    checkPath(file, [...base, 'job', 'errorField'], job.errorField);
    checkPath(file, [...base, 'job', 'progressField'], job.progressField);
    job.results.forEach((r, k) => checkPath(file, [...base, 'job', 'results', k, 'field'], r.field));
  });
}
