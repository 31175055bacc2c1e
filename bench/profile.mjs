// Where the time goes: run our server over stdio with --cpu-prof on the gateway catalogue (or a synthetic one)
// and print the functions with the most self time. Usage: node bench/profile.mjs start|free|paid [catalogue.json]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StdioServer, median } from './peer/rpc.mjs';
const { startSandbox } = await import('../dist/sandbox/index.js');
const sb = await startSandbox();
const base = sb.baseUrl('phaya', 'https://api.phaya.io/api/v1');
const dir = '/tmp/x/prof';
rmSync(dir, { recursive: true, force: true });
const mode = process.argv[2] ?? 'free';
const cat = process.argv[3] ?? 'bench/peer/gateway.catalogue.json';
const s = new StdioServer(
  process.execPath,
  ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/cli.js', '--catalogue', cat],
  {
    PATH: process.env.PATH,
    MEDIAGEN_STATE_DIR: mkdtempSync('/tmp/x/st'),
    GATEWAY_BASE: base,
    GATEWAY_KEY: sb.key,
    MEDIAGEN_CAP_SESSION: 'gateway=1000000',
    MEDIAGEN_CAP_DAY: 'gateway=1000000',
    MEDIAGEN_LOG_LEVEL: 'warn',
  },
);
const i = await s.initialize();
console.log('init', i.at - s.spawnedAt);
s.notify('notifications/initialized');
const l = await s.request('tools/list', {});
console.log('list', l.at - s.spawnedAt);
const ms = [];
if (mode !== 'start')
  for (let k = 0; k < Number(process.env.CALLS ?? 300); k++) {
    const r = await s.call(
      mode === 'free' ? 'gateway_user_credits' : 'gateway_text_to_image',
      mode === 'free' ? {} : { prompt: 'a cat' },
    );
    ms.push(r.ms);
    if (r.result?.isError) {
      console.log(JSON.stringify(r.result).slice(0, 300));
      break;
    }
  }
console.log('median', median(ms), 'first', ms.slice(0, 5));
await s.close();
await sb.close();
const f = readdirSync(dir)[0];
const prof = JSON.parse(readFileSync(join(dir, f), 'utf8'));
const self = new Map();
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const dt = prof.timeDeltas;
const counts = new Map();
prof.samples.forEach((id, k) => counts.set(id, (counts.get(id) ?? 0) + (dt[k] ?? 0)));
for (const [id, us] of counts) {
  const n = byId.get(id);
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//, 'nm/').replace(/.*wt-12\//, '')}:${n.callFrame.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + us);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log('total sampled ms', total / 1000);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
  console.log((us / 1000).toFixed(1).padStart(8), k);
