/**
 * `describe TOOL` for a person: every argument with its type, whether it is required, and each limit its
 * listed JSON Schema states (lengths, ranges, item counts, allowed values, default, URL). The schema is
 * read generically: a limit may sit on the property, in an `anyOf`/`oneOf` branch (a nullable field) or on
 * the items of an array.
 */
import type { ListedTool } from '../transports/in-process.js';

type Schema = Record<string, unknown>;

const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The property and its non-null anyOf/oneOf branches, merged (the property's own keywords win). */
function flatten(p: Schema): Schema {
  const branches = [...((p.anyOf as unknown[]) ?? []), ...((p.oneOf as unknown[]) ?? [])]
    .filter(isObj)
    .filter((b) => b.type !== 'null');
  return Object.assign({}, ...branches.map(flatten), p) as Schema;
}

/** A listed type in words; a nullable one says so ("string or null"), as strict clients list optional fields. */
function typeName(p: Schema): string {
  const name = baseTypeName(p);
  return Array.isArray(p.type) && p.type.includes('null') ? `${name} or null` : name;
}

function baseTypeName(p: Schema): string {
  const types = (Array.isArray(p.type) ? p.type : [p.type]).filter((t) => typeof t === 'string' && t !== 'null');
  if (types.includes('array')) {
    const items = isObj(p.items) ? flatten(p.items) : {};
    return `${typeName(items)}[]`;
  }
  if (types.length) return types.join('|');
  return p.enum ? 'enum' : 'any';
}

function span(lo: unknown, hi: unknown, unit: string): string | undefined {
  const l = typeof lo === 'number' ? lo : undefined;
  const h = typeof hi === 'number' ? hi : undefined;
  if (l === undefined && h === undefined) return undefined;
  if (l !== undefined && h !== undefined) return l === h ? `${unit} ${l}` : `${unit} ${l}–${h}`;
  return l !== undefined ? `${unit} ≥ ${l}` : `${unit} ≤ ${h}`;
}

function range(p: Schema): string | undefined {
  const lo = p.minimum ?? p.exclusiveMinimum;
  const hi = p.maximum ?? p.exclusiveMaximum;
  if (typeof lo !== 'number' && typeof hi !== 'number') return undefined;
  const left = typeof lo === 'number' ? `${lo}${p.minimum === undefined ? ' (excl.)' : ''}` : '…';
  const right = typeof hi === 'number' ? `${hi}${p.maximum === undefined ? ' (excl.)' : ''}` : '…';
  return `range ${left}–${right}`;
}

/** The limits of one value (a property or an array's items). */
function limits(p: Schema): string[] {
  return [
    Array.isArray(p.enum) ? `one of ${p.enum.map(String).join('|')}` : undefined,
    p.const !== undefined ? `exactly ${JSON.stringify(p.const)}` : undefined,
    span(p.minLength, p.maxLength, 'length'),
    range(p),
    typeof p.multipleOf === 'number' ? `multiple of ${p.multipleOf}` : undefined,
    p.format === 'uri' || p.format === 'url'
      ? 'a URL'
      : typeof p.format === 'string'
        ? `format ${p.format}`
        : undefined,
    // A URL's listed pattern only restates "an http or https URL" for clients that strip `format`.
    typeof p.pattern === 'string' && p.format !== 'uri' ? `pattern ${p.pattern}` : undefined,
  ].filter((x): x is string => x !== undefined);
}

/** One argument's facts: `required, one of a|b, length 1–2000, default "a"`. */
export function argumentFacts(raw: Schema, required: boolean): { type: string; facts: string[] } {
  const p = flatten(raw);
  const items = isObj(p.items) ? flatten(p.items) : undefined;
  const facts = [
    required ? 'required' : undefined,
    ...limits(p),
    span(p.minItems, p.maxItems, 'items'),
    ...(items ? limits(items).map((l) => `each ${l}`) : []),
    p.uniqueItems === true ? 'no repeats' : undefined,
    p.default !== undefined ? `default ${JSON.stringify(p.default)}` : undefined,
  ].filter((x): x is string => x !== undefined);
  return { type: typeName(p), facts };
}

export function describeText(t: ListedTool): string {
  const schema = t.inputSchema as { properties?: Record<string, Schema>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const lines = [`${t.name} — ${t.title ?? ''}`, t.description ?? '', '', 'Arguments:'];
  for (const [name, p] of Object.entries(schema.properties ?? {})) {
    const { type, facts } = argumentFacts(isObj(p) ? p : {}, required.has(name));
    const description = isObj(p) && typeof p.description === 'string' ? p.description : '';
    lines.push(
      `  ${name}=${type}${facts.length ? ` (${facts.join(', ')})` : ''}${description ? `  ${description}` : ''}`,
    );
  }
  if (!Object.keys(schema.properties ?? {}).length) lines.push('  (none)');
  return lines.join('\n') + '\n';
}
