/** JSON Schema of our catalogue format, generated from the zod schema (published as catalogues/schema.json). */
import { zodToJsonSchema } from 'zod-to-json-schema';
import { Catalogue } from './format.js';

export function catalogueJsonSchema(): Record<string, unknown> {
  const schema = zodToJsonSchema(Catalogue, { name: 'MediagenCatalogue', $refStrategy: 'root', target: 'jsonSchema7' });
  return { title: 'mediagen-mcp catalogue', ...schema };
}

export function catalogueJsonSchemaText(): string {
  return JSON.stringify(catalogueJsonSchema(), null, 2) + '\n';
}
