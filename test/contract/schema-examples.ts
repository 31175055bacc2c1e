/**
 * Example arguments derived from a listed JSON Schema: valid ones, and ones that break one constraint
 * each (of the schema, its items or its fields). Shared by the schema agreement and strict-client tests.
 */
export type Schema = {
  pattern?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  /** Values the server refuses (catalogue `refuse`). */
  not?: { enum?: unknown[] };
};
export type Tool = { name: string; inputSchema: Schema };

/**
 * The arguments as the server reads them (dropNulls in src/tools/validate.ts): a null for an optional (not
 * required) field that does not accept null is not given; a nullable field keeps its null (a value).
 */
export function asGiven(s: Schema, v: unknown): unknown {
  if (Array.isArray(v)) return s.items ? v.map((x) => asGiven(s.items!, x)) : v;
  if (!v || typeof v !== 'object' || !s.properties) return v;
  const props = s.properties;
  const dropped = (k: string, x: unknown): boolean =>
    x === null && Object.hasOwn(props, k) && !(s.required ?? []).includes(k) && !acceptsNull(props[k]);
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k, x]) => !dropped(k, x))
      .map(([k, x]) => [k, Object.hasOwn(props, k) ? asGiven(props[k], x) : x]),
  );
}

/** A listed field that takes null as a value: `[type, "null"]`. */
export function acceptsNull(s: Schema): boolean {
  return Array.isArray(s.type) && s.type.includes('null');
}

export function valid(name: string, s: Schema): unknown {
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      if (s.format === 'uri') return 'https://example.com/input.png';
      if (s.format === 'date-time') return '2026-01-02T03:04:05Z';
      return 'x'.repeat(Math.max(s.minLength ?? 1, Math.min(8, s.maxLength ?? 8)));
    case 'integer':
    case 'number':
      return s.minimum ?? (s.maximum !== undefined ? Math.min(1, s.maximum) : 1);
    case 'boolean':
      return !(s.not?.enum ?? []).includes(true);
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 0) }, () => valid(name, s.items ?? {}));
    default:
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valid(k, v)]));
  }
}

/** Refused by format uri and by the server; the http(s) pattern alone (scheme, first host character) takes them. */
export const URLS_WITH_A_SPACE = ['https://exa mple.com/a.png', 'https://example.com/a b.png'];

/** Values that break one constraint of the schema (or its items / fields) each. */
export function broken(s: Schema): unknown[] {
  const out: unknown[] = [null];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (s.enum) out.push('__not_a_value__', 987654);
  if (s.not?.enum) out.push(...s.not.enum);
  if (type === 'string') {
    out.push(42);
    if (s.format) out.push('not a url or date');
    if (s.format === 'uri')
      out.push('ftp://example.com/a.png', 'file:///etc/passwd', 'HTTPS://example.com/a.png', ...URLS_WITH_A_SPACE);
    if (s.maxLength !== undefined) out.push('y'.repeat(s.maxLength + 1));
    if (s.minLength) out.push('');
  }
  if (type === 'integer' || type === 'number') {
    out.push('7');
    if (type === 'integer') out.push(1.5);
    if (s.minimum !== undefined) out.push(s.minimum - 1);
    if (s.maximum !== undefined) out.push(s.maximum + 1);
  }
  if (type === 'boolean') out.push('true');
  if (type === 'array') {
    out.push('x', [42, 42].slice(0, Math.max(1, s.minItems ?? 1)));
    const item = valid('item', s.items ?? {});
    if (s.maxItems !== undefined) out.push(Array.from({ length: s.maxItems + 1 }, () => item));
    if (s.minItems) out.push([]);
    for (const b of broken(s.items ?? {}).slice(1))
      out.push(Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => b));
  }
  if (type === 'object') {
    out.push('x', [1]);
    const full = valid('o', s) as Record<string, unknown>;
    for (const [k, f] of Object.entries(s.properties ?? {})) for (const b of broken(f)) out.push({ ...full, [k]: b });
    for (const k of s.required ?? []) {
      const rest = { ...full };
      delete rest[k];
      out.push(rest);
    }
  }
  return out;
}

export function examples(t: Tool): { args: Record<string, unknown>; why: string }[] {
  const s = t.inputSchema;
  const full = valid(t.name, s) as Record<string, unknown>;
  const minimal = Object.fromEntries((s.required ?? []).map((k) => [k, full[k]]));
  const out = [
    { args: full, why: 'every field valid' },
    { args: minimal, why: 'required fields only' },
  ];
  for (const [k, f] of Object.entries(s.properties ?? {}))
    for (const b of broken(f))
      out.push({ args: { ...full, [k]: b }, why: `${k} = ${JSON.stringify(b)?.slice(0, 40)}` });
  for (const k of s.required ?? []) {
    const rest = { ...full };
    delete rest[k];
    out.push({ args: rest, why: `without ${k}` });
  }
  return out;
}
