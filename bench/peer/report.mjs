// The targets of the side-by-side benchmark, judged on one run's figures, and the dated table that
// replaces the "peer" section of bench/README.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/** A row comparing one figure: [name, ours, peer, ratio, target, met (null: no target)]. */
const row = (name, ours, peer, target = '—', met = null) => [name, ours, peer, ratio(ours, peer), target, met];

/** Every figure beside its target (ratios from the same run). */
export function targets(r) {
  const { ours: o, peer: p } = r.gateway;
  const calls = (s) => `${s.requestsPerFreeCall.join(',')} / ${s.requestsPerPaidCall.join(',')}`;
  const rows = [
    row('start-up → initialized (wall)', o.startMs, p.startMs, '≤ 0.8×', o.startMs <= 0.8 * p.startMs),
    row('start-up CPU', o.startCpuMs, p.startCpuMs),
    row(
      'RSS after initialize + tools/list (MB)',
      o.rssAfterListMb,
      p.rssAfterListMb,
      '≤ 1.0×',
      o.rssAfterListMb <= p.rssAfterListMb,
    ),
    row('RSS after 300 calls (MB)', o.rssAfterCallsMb, p.rssAfterCallsMb),
    row('tools/list bytes', o.listBytes, p.listBytes),
    row(
      'o200k tokens per tool (the 13 routes)',
      o.tokensPerTool,
      p.tokensPerTool,
      '≤ peer + 10',
      o.tokensPerTool <= p.tokensPerTool + 10,
    ),
    row(
      'overhead, free read (ms)',
      o.freeOverheadMs,
      p.freeOverheadMs,
      '≤ 0.7×',
      o.freeOverheadMs <= 0.7 * p.freeOverheadMs,
    ),
    row(
      'overhead, paid create (ms; ours guarded, peer not)',
      o.paidOverheadMs,
      p.paidOverheadMs,
      '≤ 1.0×',
      o.paidOverheadMs <= p.paidOverheadMs,
    ),
    [
      'provider requests per call (free / paid)',
      calls(o),
      calls(p),
      '',
      '= 1',
      [...o.requestsPerFreeCall, ...o.requestsPerPaidCall].every((x) => x === 1),
    ],
    [
      'provider requests per bad argument',
      o.badArgumentRequestsPerCall.join(','),
      p.badArgumentRequestsPerCall.join(','),
      '',
      '= 0',
      o.badArgumentRequestsPerCall.every((x) => x === 0),
    ],
  ];
  for (const [n, s] of Object.entries(r.scale)) {
    const big = Number(n) === 5000;
    const [so, sp] = [s.ours, s.peer];
    rows.push(
      row(
        `${n} ops: start-up (ms)`,
        so.startMs,
        sp.startMs,
        big ? '≤ 1,500 ms and ≤ peer' : '—',
        big ? so.startMs <= 1500 && so.startMs <= sp.startMs : null,
      ),
      row(
        `${n} ops: spawn → first tools/list (ms)`,
        so.listMs,
        sp.listMs,
        big ? '≤ peer' : '—',
        big ? so.listMs <= sp.listMs : null,
      ),
      row(`${n} ops: RSS after tools/list (MB)`, so.rssAfterListMb, sp.rssAfterListMb),
    );
  }
  return rows;
}

export function table(r) {
  const head = '| figure | mediagen | peer | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |';
  const fmt = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
  const body = targets(r)
    .map(
      ([name, a, b, q, t, ok]) =>
        `| ${name} | ${fmt(a)} | ${fmt(b)} | ${fmt(q)} | ${t} | ${ok === null ? '' : ok ? 'yes' : '**no**'} |`,
    )
    .join('\n');
  return `${head}\n${body}`;
}

const BEGIN = '<!-- peer:begin -->';
const END = '<!-- peer:end -->';

export function writeReadme(r) {
  const file = new URL('../README.md', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const day = r.date.slice(0, 10);
  const section = `${BEGIN}\n\nLast run: ${day}, Node ${r.node}, ${r.cpus} CPUs, ${r.repetitions} repetition(s), ${r.callsPerKind} calls of each kind; medians. Direct HTTP to the same routes: ${r.directHttpMs.free} ms (free read), ${r.directHttpMs.paid} ms (paid create).\n\n${table(r)}\n\n${END}`;
  const next = text.includes(BEGIN)
    ? text.slice(0, text.indexOf(BEGIN)) + section + text.slice(text.indexOf(END) + END.length)
    : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  // Keep the README in the house format (prettier aligns the table), as `npm run check` expects.
  const prettier = fileURLToPath(new URL('../../node_modules/prettier/bin/prettier.cjs', import.meta.url));
  execFileSync(process.execPath, [prettier, '--write', fileURLToPath(file)], { stdio: 'ignore' });
}
