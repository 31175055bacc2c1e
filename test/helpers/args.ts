/** Minimal valid arguments for a tool, from its JSON input schema (required fields only). */
type Schema = {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  minItems?: number;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
};

function sample(name: string, s: Schema): unknown {
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'string':
      return s.format === 'uri' ? 'https://example.com/input.png' : `a test ${name}`;
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(name, s.items ?? { type: 'string' }));
    default:
      return Object.fromEntries((s.required ?? []).map((k) => [k, sample(k, s.properties?.[k] ?? {})]));
  }
}

export function minimalArgs(inputSchema: {
  properties?: Record<string, object>;
  required?: string[];
}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of inputSchema.required ?? [])
    out[name] = sample(name, (inputSchema.properties?.[name] ?? {}) as Schema);
  return out;
}
