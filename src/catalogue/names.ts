/**
 * Names a catalogue may not use. The server's own tools own their names and their prefixes: a catalogue
 * tool named jobs_wait would be listed twice and answer instead of the server's. Parameter and field names
 * become JSON Schema property keys, zod shape keys and request keys, so each must be safe for all three.
 */

/**
 * Every server-level tool (src/tools/*): the one list. app.ts refuses to build a server tool whose name
 * is not here, so a new server tool cannot be added without reserving its name against catalogues.
 */
export const SERVER_TOOL_NAMES: readonly string[] = [
  'quote',
  'models',
  'spend_report',
  'jobs_get',
  'jobs_wait',
  'jobs_cancel',
  'jobs_list',
  'jobs_track',
  'media_upload',
  'mediagen_approve',
  'media_thumbnail',
];

/**
 * The first word of each server tool name (quote, models, spend, jobs, media, mediagen). No provider and no catalogue
 * tool may be one of them or start with one and "_": those names stay free for server tools to come.
 */
export const RESERVED_PREFIXES: readonly string[] = [...new Set(SERVER_TOOL_NAMES.map((n) => n.split('_')[0]))];

/** The reserved prefix a provider or tool name falls under, if any. */
export function reservedPrefix(name: string): string | undefined {
  return RESERVED_PREFIXES.find((p) => name === p || name.startsWith(`${p}_`));
}

/** The cost guard's own arguments (tools/validator.ts GUARD_FIELDS; a test checks the two agree). */
export const GUARD_PARAM_NAMES: readonly string[] = ['confirm_token', 'idempotency_key'];

/**
 * The property keys the strictest tool-calling APIs accept: Anthropic's and Bedrock's input_schema refuse
 * any other key with "Property keys should match pattern '^[a-zA-Z0-9_.-]{1,64}$'", which makes the whole
 * request fail, not just the one tool.
 */
export const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Names every plain JavaScript object already answers to (`constructor`, `__proto__`, `toString`...) and
 * `prototype`: as a property key one vanishes (`__proto__` sets the prototype) and others make SDK
 * clients' tools/list validation throw, so no tool of the server can be listed; looked up on a plain
 * object they find something that was never given.
 */
const INHERITED: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

export function inheritedName(name: string): boolean {
  return INHERITED.has(name);
}

/** Why a parameter or field name cannot be served, or undefined when it can. */
export function unsafeParamName(name: string): string | undefined {
  if (inheritedName(name))
    return `parameter name "${name}" is a name every JavaScript object inherits; clients and validators misread it`;
  if (!PARAM_NAME.test(name))
    return `parameter name ${JSON.stringify(name.slice(0, 80))} must match ${PARAM_NAME} (the property keys tool-calling APIs accept)`;
  if (GUARD_PARAM_NAMES.includes(name)) return `parameter name "${name}" is the cost guard's own argument`;
  return undefined;
}

/** A dotted response path ("data.result[].url") with a segment every object inherits, if any. */
export function inheritedSegment(path: string): string | undefined {
  return path
    .split('.')
    .map((s) => s.replace(/\[\]$/, ''))
    .find(inheritedName);
}
