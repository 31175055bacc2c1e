/**
 * The views in tools/list and resources: an apps-capable client (capabilities.extensions
 * "io.modelcontextprotocol/ui" with the view MIME type) sees `_meta.ui` on the tools that carry it (the
 * snapshot records each); any other client's tools/list is the plain one (tools-list.json). The three
 * views are resources of VIEW_MIME whose CSP lists only the providers' origins here (no output bucket,
 * no operator hosts) and no connect domains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { viewsDir } from '../../src/views/resources.js';
import {
  APPROVE_TOOL,
  GALLERY_URI,
  SPEND_URI,
  UI_EXTENSION,
  VIEWER_URI,
  VIEW_FILES,
  VIEW_MIME,
} from '../../src/views/uris.js';
import { connectInMemory } from '../helpers/in-memory.js';

type Tool = Awaited<ReturnType<Client['listTools']>>['tools'][number];
let apps: { client: Client; close: () => Promise<void> };
let plain: { client: Client; close: () => Promise<void> };
let appTools: Tool[];
let plainTools: Tool[];

beforeAll(async () => {
  apps = await connectInMemory(
    [],
    {},
    { client: { capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } } } },
  );
  plain = await connectInMemory();
  appTools = (await apps.client.listTools()).tools;
  plainTools = (await plain.client.listTools()).tools;
});
afterAll(async () => {
  await apps?.close();
  await plain?.close();
});

/** The views this build has (a build without a page serves, lists and links the others only). */
const BUILT = Object.keys(VIEW_FILES).filter((uri) => existsSync(join(viewsDir(), VIEW_FILES[uri])));
const ALL_BUILT = BUILT.length === Object.keys(VIEW_FILES).length;

const uiOf = (t: Tool) => (t._meta as { ui?: { resourceUri?: string } } | undefined)?.ui;

describe('views in tools/list', () => {
  // The snapshot is of a build with every view (the spend page included).
  it.skipIf(!ALL_BUILT)('records _meta.ui of every tool that carries it, for an apps-capable client', async () => {
    const carrying = Object.fromEntries(
      [...appTools].sort((a, b) => a.name.localeCompare(b.name)).flatMap((t) => (uiOf(t) ? [[t.name, t._meta]] : [])),
    );
    await expect(JSON.stringify(carrying, null, 2) + '\n').toMatchFileSnapshot('./__snapshots__/tools-ui-meta.json');
  });

  it('links the viewer from every job-creating tool and jobs_get / jobs_wait / jobs_cancel, the gallery from jobs_list, spend from spend_report', () => {
    const by = new Map(appTools.map((t) => [t.name, uiOf(t)?.resourceUri]));
    for (const n of ['jobs_get', 'jobs_wait', 'jobs_cancel']) expect(by.get(n), n).toBe(VIEWER_URI);
    expect(by.get('jobs_list')).toBe(GALLERY_URI);
    expect(by.get('spend_report')).toBe(BUILT.includes(SPEND_URI) ? SPEND_URI : undefined);
    expect(by.get('phaya_text_to_image')).toBe(VIEWER_URI);
    expect(by.get('quote')).toBeUndefined();
    // Every tool linking a view lists it under the flat key older hosts read as well.
    for (const t of appTools)
      if (uiOf(t)?.resourceUri) expect(t._meta?.['ui/resourceUri'], t.name).toBe(uiOf(t)?.resourceUri);
  });

  it('the model-visible list (what a host shows the model: visibility lacking "app"-only) lacks the approval tool', () => {
    const visibility = (t: Tool) => (t._meta?.ui as { visibility?: string[] } | undefined)?.visibility;
    expect(visibility(appTools.find((t) => t.name === APPROVE_TOOL)!)).toEqual(['app']);
    const forModel = appTools.filter((t) => visibility(t) === undefined || visibility(t)!.includes('model'));
    expect(forModel.map((t) => t.name)).not.toContain(APPROVE_TOOL);
    expect(forModel.length).toBeGreaterThan(20);
  });

  it("leaves every other client's tools/list without view links", () => {
    // The same tools, except the approval view's app-only buttons, which only an apps client is offered.
    expect(plainTools.map((t) => t.name)).toEqual(appTools.map((t) => t.name).filter((n) => n !== APPROVE_TOOL));
    for (const t of plainTools) expect(uiOf(t)?.resourceUri, t.name).toBeUndefined();
  });
});

describe('views as resources', () => {
  it('lists the three views to an apps-capable client, and reads every one (for any client) as one self-contained HTML file with its CSP', async () => {
    const listed = (await apps.client.listResources()).resources;
    expect(listed.map((r) => r.uri).sort()).toEqual([...BUILT].sort());
    expect(BUILT).toEqual(expect.arrayContaining([VIEWER_URI, GALLERY_URI]));
    for (const r of listed) expect(r.mimeType).toBe(VIEW_MIME);
    for (const { uri } of listed) {
      const read = await plain.client.readResource({ uri });
      const c = read.contents[0] as {
        uri: string;
        mimeType: string;
        text: string;
        _meta: { ui: { csp: Record<string, unknown> } };
      };
      expect(c.uri).toBe(uri);
      expect(c.mimeType).toBe(VIEW_MIME);
      expect(c.text).toMatch(/^<!doctype html>/);
      expect(c.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
      // In tests every provider points at 127.0.0.1:9 (connectInMemory): that one origin, nothing else.
      expect(c._meta.ui.csp).toEqual({ resourceDomains: ['http://127.0.0.1:9'] });
    }
  });

  it('lists no views to a client without the apps extension (it could not show them)', async () => {
    expect((await plain.client.listResources()).resources).toEqual([]);
  });

  it('answers resources/read of an unknown ui:// address with "resource not found"', async () => {
    await expect(plain.client.readResource({ uri: 'ui://mediagen/nope' })).rejects.toThrow(/Resource not found/);
  });
});
