/**
 * The ext-apps App every view runs: connected to its host over postMessage, following the host's theme
 * and style variables when it gives them (views stay readable without them: style.css has fallbacks).
 */
import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
  type McpUiHostContext,
} from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface ViewHandlers {
  /** ui/notifications/tool-input: the arguments of the call the view shows. */
  input?: (args: Record<string, unknown>) => void;
  /** ui/notifications/tool-result: the whole CallToolResult. */
  result: (result: CallToolResult) => void;
  /** ui/resource-teardown: the host is removing the view (stop polling for good). */
  teardown?: () => void;
}

function themed(ctx: McpUiHostContext | undefined): void {
  if (!ctx) return;
  if (ctx.theme) applyDocumentTheme(ctx.theme);
  if (ctx.styles?.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles?.css?.fonts) applyHostFonts(ctx.styles.css.fonts);
}

/** Connect the view; handlers are set before the handshake, as the host may send at once. */
export async function startView(name: string, on: ViewHandlers): Promise<App> {
  const app = new App({ name: `mediagen ${name}`, version: '1.0.0' }, {}, { autoResize: true });
  app.ontoolinput = (p) => on.input?.(p.arguments ?? {});
  app.ontoolresult = (r) => on.result(r as CallToolResult);
  app.onhostcontextchanged = (ctx) => themed(ctx);
  app.onteardown = async () => {
    on.teardown?.();
    return {};
  };
  await app.connect();
  themed(app.getHostContext());
  return app;
}

/** A tool call through the host, as a CallToolResult (an error the host raises becomes an error result). */
export async function callTool(app: App, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    return (await app.callServerTool({ name, arguments: args })) as CallToolResult;
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: `HOST_ERROR: ${(err as Error).message}` }] };
  }
}
