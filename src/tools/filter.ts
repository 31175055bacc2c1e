/**
 * Which tools are registered. Precedence: exclude > read-only > include > default.
 * Default: every operation that is not marked disabled. Naming a disabled tool in `include` enables it.
 * Unknown names stop start-up.
 */
import { StartupError } from '../errors.js';
import type { ToolSpec } from './build.js';

export interface ToolFilter {
  tools: readonly string[];
  excludeTools: readonly string[];
  toolsets: readonly string[];
  readOnly: boolean;
}

function check(kind: string, names: readonly string[], known: ReadonlySet<string>): void {
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new StartupError(`unknown ${kind}: ${unknown.join(', ')}`);
}

export function toolsetsOf(t: ToolSpec): string[] {
  return [t.catalogue.provider, ...t.op.tags, ...(t.op.readOnly ? ['account'] : [])];
}

/**
 * `extraNames` are other names that can be named in include/exclude (server-level tools, tools of
 * providers left out for want of a key); `extraSets` likewise for toolsets.
 */
export function filterTools<T extends ToolSpec>(
  all: readonly T[],
  f: ToolFilter,
  extraNames: readonly string[] = [],
  extraSets: readonly string[] = [],
): T[] {
  const names = new Set([...all.map((t) => t.name), ...extraNames]);
  check('tool name(s) in --tools', f.tools, names);
  check('tool name(s) in --exclude-tools', f.excludeTools, names);
  check('toolset(s)', f.toolsets, new Set([...all.flatMap(toolsetsOf), ...extraSets]));
  const include = new Set(f.tools);
  const exclude = new Set(f.excludeTools);
  const sets = new Set(f.toolsets);
  return all.filter((t) => {
    if (exclude.has(t.name)) return false;
    if (f.readOnly && !t.op.readOnly) return false;
    if (include.size || sets.size) {
      const named = include.has(t.name);
      const inSet = !t.op.disabled && toolsetsOf(t).some((s) => sets.has(s));
      return named || inSet;
    }
    return !t.op.disabled;
  });
}

/** Server-level tools pass the same exclude / read-only / include rules. */
export function keepServerTool(name: string, readOnly: boolean, f: ToolFilter): boolean {
  if (f.excludeTools.includes(name)) return false;
  if (f.readOnly && !readOnly) return false;
  if (f.tools.length && !f.toolsets.length) return f.tools.includes(name);
  return true;
}
