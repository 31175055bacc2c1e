/**
 * The MCP App views as MCP resources (DESIGN §12): resources/list and resources/read of the three
 * ui:// views, each one self-contained HTML file from dist/views/ (scripts/build-views.mjs), served as
 * VIEW_MIME with the content policy a host builds the view's CSP from (SEP-1865 `_meta.ui.csp`).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GALLERY_URI, SPEND_URI, VIEWER_URI, VIEW_FILES, VIEW_MIME } from './uris.js';

/** What a host lets a view load: `resourceDomains` (img, media, script, style, font), never connectDomains. */
export interface ViewCsp {
  resourceDomains: string[];
}

const TITLES: Readonly<Record<string, { name: string; description: string }>> = {
  [VIEWER_URI]: {
    name: 'Job viewer',
    description: 'One job: live status, price and charge, prompt, media players, downloads, cancel; approvals.',
  },
  [GALLERY_URI]: {
    name: 'Gallery',
    description: "The principal's outputs, newest first, filtered by provider and kind; a click opens the job.",
  },
  [SPEND_URI]: {
    name: 'Spend',
    description: 'Credits per provider per day, caps used and left, uncertain reservations, refunds.',
  },
};

/**
 * The folder holding the built views: beside this module in dist/ (dist/views/resources.js), or, when the
 * module runs from src/ (tests), the build's dist/views/.
 */
export function viewsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return existsSync(join(here, VIEW_FILES[VIEWER_URI])) ? here : join(here, '..', '..', 'dist', 'views');
}

export interface ViewResources {
  /** Whether the view at `uri` is served (its built file exists): only those are listed and linked. */
  has(uri: string): boolean;
  list(): { uri: string; name: string; title: string; description: string; mimeType: string }[];
  /** The view's HTML and its policy; undefined for a URI that is not one of ours. */
  read(
    uri: string,
  ): Promise<{ uri: string; mimeType: string; text: string; _meta: Record<string, unknown> } | undefined>;
}

/**
 * `domains`: the origins the views may load media from (see viewDomains in csp.ts). Views whose built
 * file is missing (a build without that page) are neither listed nor linked; `warn` names each once.
 */
export function viewResources(
  domains: readonly string[],
  dir: string = viewsDir(),
  warn: (message: string) => void = () => undefined,
): ViewResources {
  const csp: ViewCsp = { resourceDomains: [...new Set(domains)] };
  const served = Object.keys(VIEW_FILES).filter((uri) => existsSync(join(dir, VIEW_FILES[uri])));
  for (const uri of Object.keys(VIEW_FILES))
    if (!served.includes(uri))
      warn(`view ${uri} is not served: ${join(dir, VIEW_FILES[uri])} is missing (npm run build)`);
  return {
    has: (uri) => served.includes(uri),
    list: () =>
      served.map((uri) => ({
        uri,
        name: TITLES[uri].name,
        title: TITLES[uri].name,
        description: TITLES[uri].description,
        mimeType: VIEW_MIME,
      })),
    read: async (uri) => {
      const file = served.includes(uri) ? VIEW_FILES[uri] : undefined;
      if (!file) return undefined;
      const text = await readFile(join(dir, file), 'utf8');
      return { uri, mimeType: VIEW_MIME, text, _meta: { ui: { csp, prefersBorder: true } } };
    },
  };
}
