/**
 * A minimal MCP Apps host (SEP-1865) in one page: an SDK Client over Streamable HTTP to this page's own
 * origin, declaring the apps extension; it calls one tool, reads the view the tool links
 * (`_meta.ui.resourceUri`) with resources/read, renders it in a sandboxed iframe under the CSP the
 * resource's `_meta.ui.csp` allows (host-csp.ts), and bridges it with ext-apps' AppBridge: tool-input, then
 * tool-result, and the view's tools/call forwarded to the server (refused for tools whose visibility
 * lacks "app", as the spec says hosts must). The browser tests drive it; `mediagen-mcp ui` serves it.
 *
 * URL parameters (query string):
 *   tool=NAME       the tool to call (required), e.g. jobs_list, jobs_get, spend_report
 *   args=JSON       its arguments as a JSON object (default {}), e.g. args={"job_id":"job_…"}
 *   mcp=PATH        the MCP endpoint on this origin (default /mcp); another origin is refused
 *   theme=light|dark  the theme the host context gives the view (default: the browser's preference)
 * Fragment: #token=TOKEN, the bearer token (only there: no request carries a fragment; ?token= is ignored).
 * A tool whose `_meta.ui.visibility` lacks "model" (an app-only tool such as mediagen_approve) is refused
 * as `tool=`: the host calls it as the model would, and such a tool is only a view's to call.
 * State for tests and scripts: <body data-state="connecting|calling|rendering|ready|error">, the tool
 * result's text in #host-text, an error in #host-error.
 */
import {
  AppBridge,
  PostMessageTransport,
  getToolUiResourceUri,
  type McpUiHostContext,
} from '@modelcontextprotocol/ext-apps/app-bridge';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { UI_EXTENSION, VIEW_MIME } from '../uris.js';
import { buildCsp, withCsp, type ViewCsp } from './host-csp.js';

const params = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));
const status = document.createElement('p');
status.id = 'host-status';
const frame = document.createElement('iframe');
frame.id = 'view';
frame.title = 'MCP App view';
// Scripts only: no same-origin (the view cannot reach this page, its token or the server), no top navigation.
// No view submits a form (their buttons are type=button and call tools through the bridge).
frame.setAttribute('sandbox', 'allow-scripts');
frame.style.cssText = 'width:100%;border:0;min-height:120px;display:block';
const text = document.createElement('pre');
text.id = 'host-text';
text.style.cssText = 'white-space:pre-wrap;color:#555;font-size:12px';
document.body.style.margin = '0';
document.body.append(status, frame, text);

function state(s: string, message = s): void {
  document.body.dataset.state = s;
  status.textContent = message;
  status.hidden = s === 'ready';
}

function fail(err: unknown): void {
  const p = document.createElement('p');
  p.id = 'host-error';
  p.textContent = String((err as Error)?.message ?? err);
  p.style.color = '#b91c1c';
  document.body.append(p);
  state('error', 'The view could not be shown.');
}

function endpoint(): URL {
  const url = new URL(params.get('mcp') ?? '/mcp', location.href);
  if (url.origin !== location.origin) throw new Error(`mcp=${url.href} is not on this page's origin`);
  return url;
}

function theme(): 'light' | 'dark' {
  const t = params.get('theme');
  if (t === 'light' || t === 'dark') return t;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Whether a listed tool is for `who`: visibility absent means both "model" and "app" (SEP-1865). */
function visibleTo(tool: Tool, who: 'model' | 'app'): boolean {
  const vis = (tool._meta?.ui as { visibility?: unknown } | undefined)?.visibility;
  return !Array.isArray(vis) || vis.includes(who);
}

async function main(): Promise<void> {
  const name = params.get('tool');
  if (!name) throw new Error('no tool named: open this page with ?tool=NAME&args={…}');
  const args = JSON.parse(params.get('args') ?? '{}') as Record<string, unknown>;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new Error('args must be a JSON object');
  const token = fragment.get('token');
  state('connecting', 'Connecting…');
  const client = new Client(
    { name: 'mediagen-host', version: '1.0.0' },
    { capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [VIEW_MIME] } } } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(endpoint(), {
      requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
    }),
  );
  const tools = new Map<string, Tool>((await client.listTools()).tools.map((t) => [t.name, t]));
  const tool = tools.get(name);
  if (!tool) throw new Error(`the server lists no tool "${name}"`);
  if (!visibleTo(tool, 'model'))
    throw new Error(`${name} is callable only from a view, not as the tool this page calls`);
  const uri = getToolUiResourceUri(tool);
  state('calling', `Calling ${name}…`);
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  text.textContent = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
  if (!uri) return state('ready', `${name} links no view; its text result is below.`);
  state('rendering', 'Loading the view…');
  const read = await client.readResource({ uri });
  const content = read.contents.find((c) => c.uri === uri && 'text' in c) ?? read.contents[0];
  if (!content || !('text' in content) || content.mimeType !== VIEW_MIME)
    throw new Error(`${uri} is not an MCP App view`);
  const meta = (content._meta ?? read._meta) as { ui?: { csp?: ViewCsp } } | undefined;

  const context: McpUiHostContext = {
    theme: theme(),
    displayMode: 'inline',
    availableDisplayModes: ['inline'],
    platform: 'web',
    locale: navigator.language,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    toolInfo: { tool },
  };
  const bridge = new AppBridge(
    client,
    { name: 'mediagen-host', version: '1.0.0' },
    { openLinks: {}, serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: context },
  );
  bridge.oninitialized = () => {
    void bridge.sendToolInput({ arguments: args }).then(() => bridge.sendToolResult(result));
    state('ready');
  };
  bridge.onsizechange = ({ height }) => {
    if (height !== undefined) frame.style.height = `${Math.min(height, 4000)}px`;
  };
  bridge.onopenlink = async ({ url }) => {
    if (/^https?:\/\//i.test(url)) window.open(url, '_blank', 'noopener');
    return {};
  };
  await bridge.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!));
  // The view may call only tools meant for it: visibility absent ("model" and "app") or naming "app".
  // Order matters: connect() installs AppBridge's own tools/call handler, so this check is set after it
  // (replacing it), and before srcdoc is set, so the view has no moment to call anything unchecked.
  bridge.oncalltool = async (p, extra) => {
    const listed = tools.get(p.name);
    if (!listed || !visibleTo(listed, 'app')) throw new Error(`${p.name} is not callable from a view`);
    return (await client.callTool(p, undefined, { signal: extra.signal })) as CallToolResult;
  };
  frame.srcdoc = withCsp(content.text, buildCsp(meta?.ui?.csp));
}

main().catch(fail);
