/** `npm run schema`: regenerate catalogues/schema.json from the zod schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { catalogueJsonSchemaText } from './schema-json.js';

const target = fileURLToPath(new URL('../../catalogues/schema.json', import.meta.url));
writeFileSync(target, catalogueJsonSchemaText());
process.stderr.write(`wrote ${target}\n`);
