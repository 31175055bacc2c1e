// The two descriptions of the fake gateway (our catalogue, an OpenAPI spec), a check that they describe
// the same operations, and synthetic versions of both with N operations.
import { readFileSync } from 'node:fs';

const here = (f) => new URL(`./${f}`, import.meta.url);
export const CATALOGUE_FILE = here('gateway.catalogue.json');
export const OPENAPI_FILE = here('gateway.openapi.json');
export const readJson = (u) => JSON.parse(readFileSync(u, 'utf8'));

/** Operations of our catalogue as "METHOD /path" -> { params, required, enums }. */
function fromCatalogue(cat) {
  return new Map(
    cat.operations.map((o) => {
      const params = o.params ?? [];
      return [
        `${o.method} ${o.path}`,
        {
          id: o.id,
          params: params.map((p) => p.name).sort(),
          required: params
            .filter((p) => p.in === 'path' || (p.required && p.default === undefined))
            .map((p) => p.name)
            .sort(),
          enums: params
            .filter((p) => p.enum)
            .map((p) => `${p.name}=${p.enum.join('|')}`)
            .sort(),
        },
      ];
    }),
  );
}

function fromOpenapi(spec) {
  const out = new Map();
  for (const [path, methods] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody?.content?.['application/json']?.schema ?? { properties: {} };
      const named = (op.parameters ?? []).map((p) => ({ name: p.name, required: p.required, schema: p.schema }));
      for (const [name, schema] of Object.entries(body.properties ?? {}))
        named.push({ name, required: (body.required ?? []).includes(name), schema });
      out.set(`${method.toUpperCase()} ${path}`, {
        id: op.operationId,
        params: named.map((p) => p.name).sort(),
        required: named
          .filter((p) => p.required)
          .map((p) => p.name)
          .sort(),
        enums: named
          .filter((p) => p.schema?.enum)
          .map((p) => `${p.name}=${p.schema.enum.join('|')}`)
          .sort(),
      });
    }
  return out;
}

/** Throws unless both describe the same routes with the same parameters, required sets and enums. */
export function checkSameOperations(cat, spec) {
  const a = fromCatalogue(cat);
  const b = fromOpenapi(spec);
  const problems = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(k) || !b.has(k)) problems.push(`${k}: only in ${a.has(k) ? 'the catalogue' : 'the OpenAPI spec'}`);
    else if (JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k)))
      problems.push(`${k}: ${JSON.stringify(a.get(k))} vs ${JSON.stringify(b.get(k))}`);
  }
  if (problems.length) throw new Error(`catalogue and OpenAPI spec differ:\n${problems.join('\n')}`);
  return a.size;
}

/** N operations: the gateway's 13, repeated under distinct ids and paths (/s<i>/...). */
export function synthetic(n, cat, spec) {
  const ops = cat.operations;
  const operations = [];
  const paths = {};
  const entries = Object.entries(spec.paths).flatMap(([p, ms]) => Object.entries(ms).map(([m, op]) => [p, m, op]));
  for (let i = 0; i < n; i++) {
    const o = ops[i % ops.length];
    operations.push({ ...o, id: `${o.id}_${i}`, path: `/s${i}${o.path}` });
    const [p, m, op] = entries[i % entries.length];
    (paths[`/s${i}${p}`] ??= {})[m] = { ...op, operationId: `${op.operationId}_${i}` };
  }
  const rest = { ...cat };
  delete rest.balance; // its operation id does not exist under the synthetic ids
  return { catalogue: { ...rest, operations }, openapi: { ...spec, paths } };
}
