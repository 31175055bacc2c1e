/**
 * The spend view's chart: one inline SVG per provider, a stacked bar per UTC day (committed, uncertain,
 * reserved; refunded drawn as an outlined bar beside them, since refunded credits are not spent). Built
 * with DOM calls only (no markup strings): names and numbers are set as text and attributes.
 */
import { credits, type Bar, type ChartProvider } from './spend-data.js';

const SVG = 'http://www.w3.org/2000/svg';
export const KINDS = ['committed', 'uncertain', 'reserved'] as const;
const W = 640;
const H = 180;
const PAD = { left: 44, right: 8, top: 10, bottom: 28 };

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A "nice" top of the axis: 1, 2 or 5 times a power of ten, at least the highest bar. */
export function axisTop(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? 10 * p;
}

function spent(b: Bar): number {
  return b.committed + b.uncertain + b.reserved;
}

/** The chart of one provider's 30 days. */
export function chartSvg(p: ChartProvider): SVGSVGElement {
  const top = axisTop(Math.max(0, ...p.days.map((b) => Math.max(spent(b), b.refunded))));
  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    class: 'chart',
    'data-provider': p.provider,
    'aria-label': `${p.provider}: credits per day, last ${p.days.length} days`,
  });
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v: number): number => PAD.top + plotH - (v / top) * plotH;
  for (const v of [0, top / 2, top]) {
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: PAD.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, credits(v)));
  }
  const slot = plotW / Math.max(1, p.days.length);
  const barW = Math.max(3, slot * 0.75);
  p.days.forEach((b, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const g = el('g', { class: 'day', 'data-day': b.day });
    let base = 0;
    for (const kind of KINDS) {
      const v = b[kind];
      if (!(v > 0)) continue;
      const r = el('rect', {
        x: x,
        y: y(base + v),
        width: barW * 0.7,
        height: Math.max(1, y(base) - y(base + v)),
        class: `bar ${kind}`,
        'data-kind': kind,
        'data-day': b.day,
        'data-credits': v,
      });
      r.append(el('title', {}, `${b.day}: ${credits(v)} ${p.currency} ${kind}`));
      g.append(r);
      base += v;
    }
    if (b.refunded > 0) {
      const r = el('rect', {
        x: x + barW * 0.7,
        y: y(b.refunded),
        width: barW * 0.3,
        height: Math.max(1, y(0) - y(b.refunded)),
        class: 'bar refunded',
        'data-kind': 'refunded',
        'data-day': b.day,
        'data-credits': b.refunded,
      });
      r.append(el('title', {}, `${b.day}: ${credits(b.refunded)} ${p.currency} refunded`));
      g.append(r);
    }
    svg.append(g);
  });
  // A date under every seventh day, counted back from today (the last one says so).
  p.days.forEach((b, i) => {
    const back = p.days.length - 1 - i;
    if (back % 7 !== 0) return;
    const x = PAD.left + i * slot + slot / 2;
    const label = back === 0 ? `${b.day.slice(5)} today (UTC)` : b.day.slice(5);
    svg.append(el('text', { x, y: H - 8, class: 'axis', 'text-anchor': back === 0 ? 'end' : 'middle' }, label));
  });
  return svg;
}

/** The legend under the charts. */
export function legend(): HTMLElement {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  for (const kind of [...KINDS, 'refunded'] as const) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch ${kind}`;
    li.append(sw, document.createTextNode(kind));
    ul.append(li);
  }
  return ul;
}
