// The targets of the side-by-side benchmark, judged on one run's figures, and the dated table that
// replaces the "peer" section of bench/README.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/** Every figure beside its target (ratios from the same run). */
export function targets(r) {
  const g = r.gateway;
  const rows = [
    [
      'start-up → initialized (wall)',
      g.ours.startMs,
      g.peer.startMs,
      ratio(g.ours.startMs, g.peer.startMs),
      '≤ 0.8×',
      ratio(g.ours.startMs, g.peer.startMs) <= 0.8,
    ],
    ['start-up CPU', g.ours.startCpuMs, g.peer.startCpuMs, ratio(g.ours.startCpuMs, g.peer.startCpuMs), '—', null],
    [
      'RSS after initialize + tools/list (MB)',
      g.ours.rssAfterListMb,
      g.peer.rssAfterListMb,
      ratio(g.ours.rssAfterListMb, g.peer.rssAfterListMb),
      '≤ 1.0×',
      g.ours.rssAfterListMb <= g.peer.rssAfterListMb,
    ],
    [
      'RSS after 300 calls (MB)',
      g.ours.rssAfterCallsMb,
      g.peer.rssAfterCallsMb,
      ratio(g.ours.rssAfterCallsMb, g.peer.rssAfterCallsMb),
      '—',
      null,
    ],
    ['tools/list bytes', g.ours.listBytes, g.peer.listBytes, ratio(g.ours.listBytes, g.peer.listBytes), '—', null],
    [
      'o200k tokens per tool (the 13 routes)',
      g.ours.tokensPerTool,
      g.peer.tokensPerTool,
      ratio(g.ours.tokensPerTool, g.peer.tokensPerTool),
      '≤ peer + 10',
      g.ours.tokensPerTool <= g.peer.tokensPerTool + 10,
    ],
    [
      'overhead, free read (ms)',
      g.ours.freeOverheadMs,
      g.peer.freeOverheadMs,
      ratio(g.ours.freeOverheadMs, g.peer.freeOverheadMs),
      '≤ 0.7×',
      g.ours.freeOverheadMs <= 0.7 * g.peer.freeOverheadMs,
    ],
    [
      'overhead, paid create (ms; ours guarded, peer not)',
      g.ours.paidOverheadMs,
      g.peer.paidOverheadMs,
      ratio(g.ours.paidOverheadMs, g.peer.paidOverheadMs),
      '≤ 1.0×',
      g.ours.paidOverheadMs <= g.peer.paidOverheadMs,
    ],
    [
      'provider requests per call (free / paid)',
      `${g.ours.requestsPerFreeCall.join(',')} / ${g.ours.requestsPerPaidCall.join(',')}`,
      `${g.peer.requestsPerFreeCall.join(',')} / ${g.peer.requestsPerPaidCall.join(',')}`,
      '',
      '= 1',
      [...g.ours.requestsPerFreeCall, ...g.ours.requestsPerPaidCall].every((x) => x === 1),
    ],
    [
      'provider requests per bad argument',
      g.ours.badArgumentRequestsPerCall.join(','),
      g.peer.badArgumentRequestsPerCall.join(','),
      '',
      '= 0',
      g.ours.badArgumentRequestsPerCall.every((x) => x === 0),
    ],
  ];
  for (const [n, s] of Object.entries(r.scale)) {
    rows.push([
      `${n} ops: start-up (ms)`,
      s.ours.startMs,
      s.peer.startMs,
      ratio(s.ours.startMs, s.peer.startMs),
      Number(n) === 5000 ? '≤ 1,500 ms and ≤ peer' : '—',
      Number(n) === 5000 ? s.ours.startMs <= 1500 && s.ours.startMs <= s.peer.startMs : null,
    ]);
    rows.push([
      `${n} ops: spawn → first tools/list (ms)`,
      s.ours.listMs,
      s.peer.listMs,
      ratio(s.ours.listMs, s.peer.listMs),
      Number(n) === 5000 ? '≤ peer' : '—',
      Number(n) === 5000 ? s.ours.listMs <= s.peer.listMs : null,
    ]);
    rows.push([
      `${n} ops: RSS after tools/list (MB)`,
      s.ours.rssAfterListMb,
      s.peer.rssAfterListMb,
      ratio(s.ours.rssAfterListMb, s.peer.rssAfterListMb),
      '—',
      null,
    ]);
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
