/** Define a server-level tool from a zod schema, with the same validation and listing as catalogue tools. */
import { z, type ZodRawShape } from 'zod';
import { leanAnnotations } from './build.js';
import type { CallContext, RequestTools, ServerTool, ToolResult } from './handler.js';
import { badArguments, dropNulls } from './validate.js';
import { shapeSchema } from './zod-json.js';

export interface ToolDefinition<S extends ZodRawShape> {
  name: string;
  title: string;
  description: string;
  shape: S;
  readOnly: boolean;
  idempotent: boolean;
  /** Ends or undoes something (cancelling a job). */
  destructive?: boolean;
  /** The tool's `_meta` as listed (views it links, app-only visibility). */
  meta?: Record<string, unknown>;
  run(args: z.infer<z.ZodObject<S>>, ctx: CallContext, req: RequestTools): Promise<ToolResult>;
}

export function defineTool<S extends ZodRawShape>(d: ToolDefinition<S>): ServerTool {
  const schema = z.object(d.shape).strict();
  return {
    name: d.name,
    title: d.title,
    description: d.description,
    inputSchema: shapeSchema(d.shape),
    annotations: leanAnnotations({
      readOnlyHint: d.readOnly,
      destructiveHint: d.destructive ?? false,
      idempotentHint: d.idempotent,
      openWorldHint: true,
    }),
    ...(d.meta ? { _meta: d.meta } : {}),
    run: async (raw, ctx, req) => {
      const input = dropNulls(schema, raw ?? {});
      const parsed = schema.safeParse(input);
      if (!parsed.success) throw badArguments(d.name, schema, input, parsed.error);
      return d.run(parsed.data, ctx, req);
    },
  };
}
