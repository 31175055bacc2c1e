/**
 * `mediagen-mcp list` / `--list`: the catalogue tools this configuration serves, in aligned columns (name,
 * provider, notes, price line), and a closing line saying what is listed and what is not (tools off by
 * default, tools the filter leaves out, the server's own tools) and how to see them. `list --json` (the
 * command line) gives every tool a client is given, with its schema, for scripts.
 */
import type { Registry } from '../tools/registry.js';
import { paintPrices, type Paint } from './colour.js';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function listText(registry: Registry, sandbox: boolean, serverTools: readonly string[], paint: Paint): string {
  const rows = registry.tools.map((t) => {
    const price = (t.description.split('\n').find((l) => l.startsWith('Price:')) ?? 'Free.').replace(/^Price: /, '');
    const notes = [
      t.op.disabled ? 'off by default, on by --tools' : undefined,
      !sandbox && registry.unconfigured.includes(t.catalogue.provider) ? 'no key' : undefined,
    ].filter(Boolean);
    return [t.name, t.catalogue.provider, notes.join(', ') || '-', price];
  });
  const listed = new Set(registry.tools.map((t) => t.name));
  const left = registry.all.filter((t) => !listed.has(t.name));
  const off = left.filter((t) => t.op.disabled).length;
  const filtered = left.length - off;
  const noKey = sandbox ? 0 : registry.tools.filter((t) => registry.unconfigured.includes(t.catalogue.provider)).length;
  const body = rows.length ? table([['NAME', 'PROVIDER', 'NOTES', 'PRICE'], ...rows]) : '(no catalogue tool)';
  const lines = [
    `${rows.length} catalogue tool${rows.length === 1 ? '' : 's'} listed` +
      (noKey ? `; ${noKey} marked "no key" (set the provider's key variable, or try --sandbox).` : '.'),
    off ? `Not listed: ${off} off by default (turn one on by naming it in --tools).` : undefined,
    filtered ? `Not listed: ${filtered} left out by --tools, --toolsets or --exclude-tools.` : undefined,
    `Not listed: the server's own tools, served beside them: ${serverTools.join(', ')}.`,
    'Every tool a client is given, with its schema: mediagen-mcp list --json',
  ].filter(Boolean);
  const summary = lines.join('\n');
  const painted = body
    .split('\n')
    .map((l, i) => (i === 0 ? l : paintPrices(l, paint)))
    .join('\n');
  return `${painted}\n\n${summary}\n`;
}
