/**
 * A server tool's URL field (`webUrl(z.string().url())`) is listed the way catalogue URLs are: format uri
 * for clients that know it, the http(s) pattern and words for strict clients that drop or refuse the format.
 */
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { z } from 'zod';
import { WEB_URL_PATTERN } from '../../src/tools/json-schema.js';
import { webUrl } from '../../src/tools/validator.js';
import { shapeSchema } from '../../src/tools/zod-json.js';

describe('zod-json lists a server URL field like a catalogue one', () => {
  const schema = shapeSchema({
    link: webUrl(z.string().url()).describe('Where the file is'),
    bare: z.string().url().optional(),
  });
  it('format uri, the http(s) pattern and the words, with or without a description', () => {
    expect(schema.properties.link).toEqual({
      type: 'string',
      format: 'uri',
      pattern: WEB_URL_PATTERN,
      description: 'Where the file is (an http or https URL)',
    });
    expect(schema.properties.bare).toMatchObject({ format: 'uri', pattern: WEB_URL_PATTERN });
    expect(schema.required).toEqual(['link']);
  });
  it('without its format the listed schema still refuses what the validator refuses', () => {
    const noFormat: Record<string, unknown> = { ...(schema.properties.link as Record<string, unknown>) };
    delete noFormat.format;
    const check = new Ajv({ strict: false }).compile(noFormat);
    const field = webUrl(z.string().url());
    for (const v of ['ftp://example.com/a', 'file:///etc/passwd', 'https://example.com/a.png'])
      expect(check(v), v).toBe(field.safeParse(v).success);
  });
});
