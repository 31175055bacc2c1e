/**
 * The whole tool list as strict clients see it: every shipped catalogue's tools (those off by default
 * too), a test catalogue's shapes no shipped one has yet, and every server tool (media_upload in both forms, the app-only approval tool), served by the built
 * server over stdio in sandbox mode to a real SDK Client. Each input schema is checked against JSON Schema
 * 2020-12 (ajv, strict), Gemini's `parameters` subset and OpenAI's strict mode (strict-subsets.ts says
 * where each rule comes from). The listed schemas are not strict by design (optional fields are left
 * out of `required`, no additionalProperties: false: see src/tools/json-schema.ts), so the Gemini and
 * OpenAI checks run on the mechanical conversion those clients apply, and prove it keeps every limit:
 * on examples that break one constraint at a time, the converted schema accepts and refuses what the
 * listed one does. What cannot be kept is in LOST, with the reason; the test fails when LOST is stale.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import type { ToolSpec } from '../../src/tools/build.js';
import { WEB_URL_PATTERN } from '../../src/tools/json-schema.js';
import { dropNulls } from '../../src/tools/validate.js';
import { UI_EXTENSION, VIEW_MIME } from '../../src/views/uris.js';
import { connectInMemory } from '../helpers/in-memory.js';
import { ROOT } from '../helpers/paths.js';
import { spawnStdio, type StdioServer } from '../helpers/stdio.js';
import { asGiven, examples, type Schema } from './schema-examples.js';
import { SERVER_TOOL_NAMES } from '../../src/catalogue/names.js';
import {
  geminiProblems,
  openAiProblems,
  STRICT_LENGTH_MAX,
  toGemini,
  toOpenAiStrict,
  withNulls,
} from './strict-subsets.js';

type Node = Record<string, unknown>;
type Listed = { name: string; inputSchema: Node };

/**
 * Limits a conversion cannot keep, by client and tool, with why. Exactly these are lost: a tool that
 * loses more, or no longer loses one named here, fails the test.
 */
const ANY_KEYS =
  'arguments of other tools, any keys: Gemini refuses an object without properties ("should be non-empty ' +
  'for OBJECT type"), and strict mode can only say an object with no keys (ensure_strict_json_schema adds ' +
  'additionalProperties: false). Use these tools without strict mode; the server validates the inner ' +
  'arguments against the named tool and names what is wrong.';
const PASSED_THROUGH =
  "off by default (it duplicates phaya_gpt_chat through Phaya's OpenAI-compatible proxy): it passes OpenAI's own " +
  'message / tool objects through unchanged, whose many shapes OpenAI documents; as free-form objects Gemini ' +
  'refuses them and strict mode can only say empty objects.';
const LONG_TEXT =
  'quantifier too large for a strict-mode regex: strict mode has no maxLength, and OpenAI documents no limit ' +
  `for a pattern's counted repetition, so a length above ${STRICT_LENGTH_MAX.toLocaleString('en')} characters is not ` +
  'claimed as kept. The prompt keeps its minimum; the server refuses a longer prompt naming the limit.';
const PROXY = {
  phaya_openai_chat_completions: {
    lost: ['#/properties/messages/items: free-form object', '#/properties/tools/items: free-form object'],
    why: PASSED_THROUGH,
  },
  phaya_openai_responses: { lost: ['#/properties/tools/items: free-form object'], why: PASSED_THROUGH },
};
const LOST: Record<'gemini' | 'openai', Record<string, { lost: string[]; why: string }>> = {
  gemini: {
    ...PROXY,
    shapes_every_shape: {
      lost: ['#/properties/steps: enum'],
      why: 'a number enum (the test catalogue has one; no shipped one does): Gemini takes enums of strings only, so the converted schema says integer and the server names the allowed values when refused.',
    },
    quote: { lost: ['#/properties/arguments: free-form object'], why: ANY_KEYS },
    models: { lost: ['#/properties/arguments: free-form object'], why: ANY_KEYS },
    phaya_gpt_chat: {
      lost: ['#/properties/stream: not'],
      why: 'stream: true is refused (this server does not stream); Gemini has no `not` and an enum only of strings, so the schema says boolean and the description says "only false".',
    },
  },
  openai: {
    ...PROXY,
    phaya_nano_banana: { lost: ['#/properties/prompt: maxLength'], why: LONG_TEXT },
    phaya_text_to_speech: { lost: ['#/properties/prompt: maxLength'], why: LONG_TEXT },
    quote: { lost: ['#/properties/arguments: free-form object'], why: ANY_KEYS },
    models: { lost: ['#/properties/arguments: free-form object'], why: ANY_KEYS },
    phaya_gpt_chat: {
      lost: ['#/properties/stream: not'],
      why: 'stream: true is refused; strict mode has no `not` (the description says "only false").',
    },
  },
};

const S3_ENV = {
  AWS_ACCESS_KEY_ID: 'test-key-id',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
  MEDIAGEN_S3_FORCE_PATH_STYLE: '1',
};
const STORE = ['--output-store', 's3://mediagen-test/media'];
/** Shapes no shipped catalogue has yet (nullable enum and URL, a number enum, bounded strings). */
const SHAPES = ['--catalogue', `${ROOT}test/fixtures/catalogues/strict-shapes.json`];
const APPS = { capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } } };

let catalogueNames: string[] = [];
let specs: ToolSpec[] = [];
let tools: Listed[] = [];
let server: StdioServer;

/** media_upload as HTTP serves it (a presigned PUT): the same app, `uploads: 'presign'`. */
async function presignUpload(): Promise<Listed> {
  const dir = mkdtempSync(join(tmpdir(), 'mediagen-strict-'));
  const { config } = loadConfig(['--sandbox', ...STORE], { MEDIAGEN_STATE_DIR: dir, ...S3_ENV });
  const app = await createApp(config, silentLogger, {
    override: (c) => ({ baseUrl: c.baseUrl.default, key: 'k' }),
    uploads: 'presign',
  });
  const { server: s } = app.createMcpServer('strict');
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'strict', version: '1' });
  await Promise.all([s.connect(a), client.connect(b)]);
  const t = (await client.listTools()).tools.find((x) => x.name === 'media_upload');
  await client.close();
  await app.close();
  return { name: 'media_upload (presign)', inputSchema: t!.inputSchema as Node };
}

beforeAll(async () => {
  const mem = await connectInMemory(['--sandbox', ...SHAPES]);
  specs = [...mem.app.registry.all];
  catalogueNames = specs.map((t) => t.name);
  await mem.close();
  // Every server tool, from the one list the server itself names them by.
  const serverTools = [...SERVER_TOOL_NAMES];
  server = await spawnStdio(
    { ...S3_ENV, MEDIAGEN_INPUT_DIR: mkdtempSync(join(tmpdir(), 'mediagen-input-')) },
    ['--sandbox', ...SHAPES, ...STORE, '--tools', [...catalogueNames, ...serverTools].join(',')],
    APPS,
  );
  tools = (await server.client.listTools()).tools.map((t) => ({ name: t.name, inputSchema: t.inputSchema as Node }));
  tools.push(await presignUpload());
}, 60_000);
afterAll(() => server?.close());

/** Every sub-schema with its JSON pointer. */
function nodes(n: Node, at = '#'): [string, Node][] {
  const props = Object.entries((n.properties as Record<string, Node> | undefined) ?? {});
  return [
    [at, n],
    ...props.flatMap(([k, v]) => nodes(v, `${at}/properties/${k}`)),
    ...(n.items ? nodes(n.items as Node, `${at}/items`) : []),
  ];
}

/** Gemini's `nullable` read back as JSON Schema, to judge examples with ajv. */
function geminiAsJson(n: Node): Node {
  const out: Node = { ...n };
  delete out.nullable;
  if (n.nullable) {
    out.type = [n.type, 'null'];
    if (Array.isArray(n.enum)) out.enum = [...(n.enum as unknown[]), null];
  }
  if (n.properties)
    out.properties = Object.fromEntries(
      Object.entries(n.properties as Node).map(([k, v]) => [k, geminiAsJson(v as Node)]),
    );
  if (n.items) out.items = geminiAsJson(n.items as Node);
  return out;
}

const judge = new Ajv({ strict: false });
addFormats.default(judge);

/** The top-level property a lost limit sits on ("#/properties/stream: not" -> "stream"). */
const lostProperty = (l: string): string | undefined => /^#\/properties\/([^/:]+)/.exec(l)?.[1];

/**
 * Examples where the converted schema judges differently from the listed one. Examples that break a
 * property with a lost limit are left out (there the converted schema refuses less, as LOST says); every
 * other example of the tool must still agree.
 */
function disagreements(t: Listed, converted: Node, args: (a: unknown) => unknown, lost: string[]): string[] {
  const listed = judge.compile(t.inputSchema);
  const other = judge.compile(converted);
  const skip = lost.map(lostProperty).filter((p): p is string => p !== undefined);
  return examples({ name: t.name, inputSchema: t.inputSchema as Schema })
    .filter((ex) => !skip.some((p) => ex.why.startsWith(`${p} = `)))
    .filter((ex) => {
      const [a, b] = [listed(asGiven(t.inputSchema as Schema, ex.args)), other(args(ex.args))];
      // The http(s) pattern covers the scheme and the first host character only: without format uri a
      // URL with a space passes (the server refuses it). Exactly that, and nothing else, may differ there.
      if (spaced(ex.why)) return !(a === false && b === true);
      return a !== b;
    })
    .map((ex) => `${t.name}: ${ex.why}`);
}

/** An example whose broken value is one of URLS_WITH_A_SPACE (its `why` may be cut at 40 characters). */
const spaced = (why: string): boolean => /exa mple|\/a b\.png/.test(why);

function checkSubset(
  client: 'gemini' | 'openai',
  convert: (n: Node) => { schema: Node; lost: string[] },
  problems: (n: Node) => string[],
  args: (t: Listed, a: unknown) => unknown,
  asJson: (n: Node) => Node = (n) => n,
) {
  const lost: Record<string, string[]> = {};
  const refused: string[] = [];
  const differ: string[] = [];
  for (const t of tools) {
    const c = convert(t.inputSchema);
    const name = t.name.replace(/ \(presign\)$/, '');
    if (c.lost.length) lost[name] = c.lost;
    refused.push(...problems(c.schema).map((p) => `${t.name}: ${p}`));
    differ.push(...disagreements(t, asJson(c.schema), (a) => args(t, a), c.lost));
  }
  const allowed = Object.fromEntries(Object.entries(LOST[client]).map(([k, v]) => [k, v.lost]));
  expect(lost, `${client}: limits lost (update LOST with the reason)`).toEqual(allowed);
  expect(differ).toEqual([]);
  return refused;
}

describe('strict clients accept the whole tool list', () => {
  it('lists every shipped catalogue tool and every server tool', () => {
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining([...catalogueNames, 'media_upload', 'mediagen_approve', 'quote']));
    expect(names.length).toBe(catalogueNames.length + 11 + 1);
  });

  it('JSON Schema draft 2020-12: every input schema is valid and compiles under ajv strict', () => {
    // allowUnionTypes: a nullable field is `[type, "null"]`, the one union the lists use.
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    addFormats.default(ajv);
    const bad: string[] = [];
    for (const t of tools) {
      if (!ajv.validateSchema(t.inputSchema)) bad.push(`${t.name}: ${ajv.errorsText(ajv.errors)}`);
      try {
        ajv.compile(t.inputSchema);
      } catch (err) {
        bad.push(`${t.name}: ${(err as Error).message}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every enum says its type; every URL keeps its meaning without `format` (pattern and description)', () => {
    const bad: string[] = [];
    for (const t of tools)
      for (const [at, n] of nodes(t.inputSchema)) {
        if (n.enum && !n.type) bad.push(`${t.name} ${at}: enum without type`);
        if (n.format === 'uri' && (n.pattern !== WEB_URL_PATTERN || !/http or https URL/.test(String(n.description))))
          bad.push(`${t.name} ${at}: uri without its pattern and words`);
      }
    expect(bad).toEqual([]);
  });

  it("Gemini `parameters` subset: each converted schema is inside it, and keeps every limit but LOST's", () => {
    const refused = checkSubset(
      'gemini',
      (n) => toGemini(n),
      (n) => geminiProblems(n),
      (t, a) => asGiven(t.inputSchema as Schema, a),
      geminiAsJson,
    );
    // Only the free-form objects are refused outright (Gemini has no way to say "any keys"); the rest is inside.
    const freeForm = Object.entries(LOST.gemini).flatMap(([tool, v]) =>
      v.lost
        .filter((l) => l.endsWith(': free-form object'))
        .map((l) => `${tool}: ${l.replace(/free-form object$/, 'object without properties')}`),
    );
    expect(refused.sort()).toEqual(freeForm.sort());
  });

  it("OpenAI strict mode: each converted schema is inside it (all required, nullable optionals, no extra keys), and keeps every limit but LOST's", () => {
    const refused = checkSubset(
      'openai',
      (n) => toOpenAiStrict(n),
      (n) => openAiProblems(n),
      (t, a) => withNulls(t.inputSchema, a),
    );
    expect(refused).toEqual([]);
  });

  it('the examples are judged as the server reads them: asGiven drops exactly the nulls dropNulls drops', () => {
    const differ: string[] = [];
    for (const spec of specs) {
      const t = tools.find((x) => x.name === spec.name)!;
      for (const ex of examples({ name: t.name, inputSchema: t.inputSchema as Schema })) {
        const sent = withNulls(t.inputSchema, ex.args);
        const ours = JSON.stringify(asGiven(t.inputSchema as Schema, sent));
        if (ours !== JSON.stringify(dropNulls(spec.schema, sent))) differ.push(`${t.name}: ${ex.why}`);
      }
    }
    expect(differ).toEqual([]);
  });

  it('a tool with a lost limit is still held to every other limit (dropping minItems of messages is caught)', () => {
    const t = tools.find((x) => x.name === 'phaya_gpt_chat')!;
    const c = toOpenAiStrict(t.inputSchema);
    expect(c.lost).toEqual(['#/properties/stream: not']);
    expect(disagreements(t, c.schema, (a) => withNulls(t.inputSchema, a), c.lost)).toEqual([]);
    const dropped = structuredClone(c.schema); // a new object: ajv caches what it compiled by the object
    delete ((dropped.properties as Node).messages as Node).minItems;
    expect(disagreements(t, dropped, (a) => withNulls(t.inputSchema, a), c.lost)).toEqual([
      'phaya_gpt_chat: messages = []',
    ]);
  });

  it('a URL with a space: format uri refuses it, the http(s) pattern alone (what strict clients keep) takes it', () => {
    const t = tools.find((x) => x.name === 'shapes_every_shape')!;
    const listed = judge.compile(t.inputSchema);
    const gemini = judge.compile(geminiAsJson(toGemini(t.inputSchema).schema));
    const openai = judge.compile(toOpenAiStrict(t.inputSchema).schema);
    for (const source of ['https://exa mple.com/a.png', 'https://example.com/a b.png']) {
      const args = { note: 'ok', source };
      expect([listed(args), gemini(args), openai(withNulls(t.inputSchema, args))], source).toEqual([false, true, true]);
    }
  });

  it('every reason in LOST is written down', () => {
    for (const byTool of Object.values(LOST))
      for (const v of Object.values(byTool)) expect(v.why.length).toBeGreaterThan(40);
  });
});
