/**
 * The spend view (ui://mediagen/spend): spend_report's result as a chart of credits per day per provider
 * (30 UTC days, inline SVG), the caps used and left (the guard's own figures), the uncertain reservations
 * with what to do about each, and the refunds. It gets the result as the view's tool-result and refreshes
 * by calling spend_report through the host. Everything shown is set as text, never as markup.
 */
import { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { chartSvg, legend } from './spend-chart.js';
import { credits, readReport, type ProviderRow, type SpendReport } from './spend-data.js';
import './spend.css';

const root = document.getElementById('app') ?? document.body;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.text !== undefined) e.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

function capsTable(report: SpendReport): HTMLElement {
  const rows = report.providers.flatMap((p: ProviderRow) =>
    (['session', 'day'] as const).flatMap((scope) => {
      const c = p.caps?.[scope];
      if (!c) return [];
      const meter = h('meter', { attrs: { min: '0', max: String(c.cap), value: String(c.used) } });
      return [
        h(
          'tr',
          { attrs: { 'data-provider': p.provider, 'data-scope': scope } },
          h('td', { text: p.provider }),
          h('td', { text: scope === 'day' ? 'today (UTC day)' : 'this session' }),
          h('td', { class: 'num used', text: credits(c.used) }),
          h('td', { class: 'num left', text: credits(c.left) }),
          h('td', { class: 'num cap', text: credits(c.cap) }),
          h('td', {}, meter),
        ),
      ];
    }),
  );
  const note = report.session_note ? [h('p', { class: 'muted session-note', text: report.session_note })] : [];
  if (!rows.length) return note[0] ?? h('p', { class: 'muted caps-none', text: 'No spend cap is set.' });
  const head = h(
    'tr',
    {},
    ...['provider', 'scope', 'used', 'left', 'cap', ''].map((t, i) =>
      h('th', { class: i >= 2 && i <= 4 ? 'num' : '', text: t }),
    ),
  );
  return h('div', {}, h('table', { class: 'caps' }, h('thead', {}, head), h('tbody', {}, ...rows)), ...note);
}

function uncertainList(report: SpendReport): HTMLElement {
  if (!report.uncertain.length) return h('p', { class: 'muted', text: 'None: every call has a known outcome.' });
  return h(
    'ul',
    { class: 'uncertain' },
    ...report.uncertain.map((u) =>
      h(
        'li',
        { attrs: { 'data-reservation': u.reservation } },
        h('strong', { text: `${u.tool}, ${credits(u.credits)} ${u.currency ?? 'credits'}` }),
        ` — uncertain since ${u.uncertain_since} (reservation ${u.reservation})`,
        h('div', { class: 'advice', text: u.what_to_do ?? '' }),
      ),
    ),
  );
}

/** Credits per currency, each in its own unit ("3 credits, 0.5 USD"). */
function list(sums: { currency: string; credits: number }[] | undefined): string {
  return (sums ?? []).map((c) => `${credits(c.credits)} ${c.currency}`).join(', ') || 'nothing';
}

function refundList(report: SpendReport): HTMLElement {
  if (!report.refunds.length) return h('p', { class: 'muted', text: 'No refunds in the last 30 days.' });
  const rows = report.refunds.map((r) =>
    h(
      'tr',
      { attrs: { 'data-reservation': r.reservation } },
      h('td', { text: r.refunded_at.replace('T', ' ').slice(0, 19) }),
      h('td', { text: r.tool }),
      h('td', { class: 'num', text: `${credits(r.credits)} ${r.currency}` }),
      h('td', { text: r.job_id ?? '' }),
    ),
  );
  const total = report.refunds_total;
  return h(
    'div',
    {},
    ...(total
      ? [
          h('p', {
            class: 'muted refunds-total',
            text: `${total.count} refunded in the last ${total.days} days (by refund time): ${list(total.currencies)} given back.`,
          }),
        ]
      : []),
    h('table', { class: 'refunds' }, h('tbody', {}, ...rows)),
  );
}

function render(report: SpendReport, refresh: () => void): void {
  const button = h('button', { text: 'Refresh', attrs: { type: 'button', id: 'refresh' } });
  button.addEventListener('click', refresh);
  const charts = report.chart.providers.length
    ? report.chart.providers.map((p) =>
        h(
          'section',
          { class: 'provider', attrs: { 'data-provider': p.provider } },
          h('h2', { text: `${p.provider}` }),
          h('p', {
            class: 'muted totals',
            text: `Last ${p.days.length} days (by reservation day): ${credits(p.totals.committed)} ${p.currency} committed, ${credits(p.totals.uncertain)} uncertain, ${credits(p.totals.reserved)} reserved, ${credits(p.totals.refunded)} refunded.`,
          }),
          chartSvg(p),
        ),
      )
    : [h('p', { class: 'muted empty', text: 'No spend in the last 30 days.' })];
  root.replaceChildren(
    h(
      'header',
      {},
      h('h1', { text: 'Spend' }),
      h('span', { class: 'muted', text: report.generated_at ? `as of ${report.generated_at}` : '' }),
      button,
    ),
    ...charts,
    ...(report.chart.providers.length ? [legend()] : []),
    h('h2', { text: 'Caps used and left' }),
    capsTable(report),
    h('h2', { text: 'Uncertain reservations' }),
    uncertainList(report),
    h('h2', { text: 'Refunds' }),
    refundList(report),
  );
  root.setAttribute('data-state', 'ready');
}

function showText(message: string, cls: string): void {
  root.replaceChildren(h('h1', { text: 'Spend' }), h('pre', { class: cls, text: message }));
  root.setAttribute('data-state', cls);
}

const app = new App({ name: 'mediagen-spend', version: '1.0.0' }, {});

function show(result: CallToolResult): void {
  const report = readReport(result.structuredContent);
  if (result.isError || !report) return showText(textOf(result) || 'No spend report.', 'error');
  render(report, () => void refresh());
}

async function refresh(): Promise<void> {
  try {
    show(await app.callServerTool({ name: 'spend_report', arguments: {} }));
  } catch (err) {
    showText(`Could not refresh: ${err instanceof Error ? err.message : String(err)}`, 'error');
  }
}

root.setAttribute('data-state', 'waiting');
root.textContent = 'Waiting for the spend report…';
app.ontoolresult = (params) => show(params as CallToolResult);
await app.connect();
