/**
 * The `mediagen-mcp ui` start page: plain HTML, no script, linking the gallery and the spend view through
 * the host page. The host page's URL parameters are documented at the top of src/views/app/host.page.ts.
 */

export interface UiLink {
  title: string;
  what: string;
  href: string;
}

/**
 * The views the page offers, each as a host page address (`tool`, and `mcp`: the endpoint's path on this
 * origin, token included); relative, so it keeps the token in the path.
 */
export function uiLinks(mcpPath: string): UiLink[] {
  const view = (tool: string): string => `host.html?${new URLSearchParams({ tool, mcp: mcpPath }).toString()}`;
  return [
    {
      title: 'Gallery',
      what: 'your outputs, newest first; open one to see it, cancel a running job',
      href: view('jobs_list'),
    },
    {
      title: 'Spend',
      what: 'credits per day for 30 days, caps used and left, uncertain reservations, refunds',
      href: view('spend_report'),
    },
  ];
}

const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function indexPage(links: readonly UiLink[], hostBuilt: boolean): string {
  const items = links
    .map((l) => `<li><a href="${escape(l.href)}">${escape(l.title)}</a> — ${escape(l.what)}</li>`)
    .join('\n');
  const note = hostBuilt ? '' : '<p><strong>The views are not built:</strong> run <code>npm run build</code>.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mediagen-mcp ui</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em;max-width:44em}li{margin:.4em 0}</style></head>
<body><h1>mediagen-mcp</h1>
<p>Read-only views of this computer's jobs and spend (cancel is the one change they can make).</p>
${note}<ul>
${items}
</ul>
<p>This address holds a per-run token: it works until <code>mediagen-mcp ui</code> stops. Do not share it.</p>
</body></html>
`;
}
