/**
 * Which view each tool links (`_meta.ui.resourceUri`, SEP-1865), added to tools/list only for a client
 * that declared the MCP Apps extension: every other client's tool list stays as it was (and lean).
 */
import { GALLERY_URI, SPEND_URI, VIEWER_URI } from './uris.js';

/** The server tools that link a view, and which. Job-creating catalogue tools link the viewer too. */
const SERVER_VIEWS: Readonly<Record<string, string>> = {
  jobs_get: VIEWER_URI,
  jobs_wait: VIEWER_URI,
  jobs_cancel: VIEWER_URI,
  jobs_list: GALLERY_URI,
  spend_report: SPEND_URI,
};

/** The view a tool links, if any: `jobCreating` is true for a catalogue tool with a job block. */
export function viewOf(name: string, jobCreating: boolean): string | undefined {
  return jobCreating ? VIEWER_URI : Object.hasOwn(SERVER_VIEWS, name) ? SERVER_VIEWS[name] : undefined;
}

/**
 * The tool's `_meta` with its view linked: `ui.resourceUri` (the spec's key) and the flat
 * `ui/resourceUri` that hosts built on earlier drafts read (as ext-apps' registerAppTool writes both).
 * Whatever `_meta.ui` the tool already lists (visibility) is kept.
 */
export function linkView(meta: Record<string, unknown> | undefined, uri: string): Record<string, unknown> {
  const ui = (meta?.ui ?? {}) as Record<string, unknown>;
  return { ...meta, ui: { ...ui, resourceUri: uri }, 'ui/resourceUri': uri };
}
