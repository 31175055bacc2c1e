/** Reading a Prometheus text exposition in the /metrics tests. */
import { until } from './money.js';

/** One sample's value from a Prometheus text exposition; undefined when the series is absent. */
export function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** The sum of every series of `name` matching `labels`. */
export function total(body: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

export async function metricsUrlOf(stderr: () => string): Promise<string> {
  await until(() => /metrics on http:\/\/\S+\/metrics/.test(stderr()));
  return /metrics on (http:\/\/\S+\/metrics)/.exec(stderr())![1];
}

export async function scrape(url: string, token?: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}
