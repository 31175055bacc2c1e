/**
 * The gallery's grid: one card per job of jobs_list's result (newest first, as the ledger lists them) with
 * its first output as the thumbnail, filters by provider and kind, "More" for the next page.
 */
import type { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fill, h, when } from './dom.js';
import { asJob, resultText, type JobView } from './job-data.js';
import { mediaKind, mediaUrl, thumbnail, type MediaKind } from './media.js';
import { callTool } from './view-app.js';

type Kind = MediaKind | 'none';

const kindOf = (j: JobView): Kind => (j.outputs[0] ? mediaKind(j.outputs[0]) : 'none');

function thumb(app: App, j: JobView): HTMLElement {
  const o = j.outputs[0];
  const url = o && mediaUrl(o);
  const kind = kindOf(j);
  if (!o || !url || (kind !== 'image' && kind !== 'video'))
    return h('div', { class: 'thumb' }, kind === 'audio' ? '♪ audio' : j.status);
  const el =
    kind === 'image'
      ? h('img', { class: 'thumb', src: url, alt: j.tool, loading: 'lazy' })
      : h('video', { class: 'thumb', src: url, muted: '', preload: 'metadata', playsinline: '' });
  el.addEventListener('error', () => {
    void thumbnail(app, j.job_id, 1).then((src) => {
      if (src) el.replaceWith(h('img', { class: 'thumb', src, alt: j.tool }));
    });
  });
  return el;
}

export class Gallery {
  private jobs: JobView[] = [];
  private cursor: string | null = null;
  private readonly provider = h('select', { 'data-testid': 'filter-provider', 'aria-label': 'Provider' });
  private readonly kind = h('select', { 'data-testid': 'filter-kind', 'aria-label': 'Kind' });
  private readonly grid = h('div', { class: 'grid', 'data-testid': 'gallery-grid' });
  private readonly count = h('span', { class: 'note', 'data-testid': 'gallery-count' });
  private readonly more = h('button', { type: 'button', 'data-testid': 'gallery-more' }, 'More');
  private readonly message = h('p', { class: 'error' });

  constructor(
    readonly root: HTMLElement,
    private readonly app: App,
    private readonly open: (jobId: string) => void,
  ) {
    this.provider.addEventListener('change', () => this.draw());
    this.kind.addEventListener('change', () => this.draw());
    this.more.addEventListener('click', () => void this.next());
    fill(
      root,
      h('header', {}, h('h1', {}, 'Your media'), this.count),
      h('div', { class: 'row' }, this.provider, this.kind),
      this.message,
      this.grid,
      this.more,
    );
  }

  /** jobs_list's result: the first page. */
  show(r: CallToolResult): void {
    this.jobs = [];
    this.add(r);
  }

  private add(r: CallToolResult): void {
    const sc = r.structuredContent as { jobs?: unknown[]; next_cursor?: string | null } | undefined;
    this.message.textContent = r.isError ? resultText(r) : '';
    for (const j of sc?.jobs ?? []) {
      const job = asJob(j);
      if (job) this.jobs.push(job);
    }
    this.cursor = sc?.next_cursor ?? null;
    this.options();
    this.draw();
  }

  private async next(): Promise<void> {
    if (!this.cursor) return;
    this.more.disabled = true;
    this.add(await callTool(this.app, 'jobs_list', { cursor: this.cursor }));
    this.more.disabled = false;
  }

  private options(): void {
    const pick = (sel: HTMLSelectElement, all: string, values: string[]): void => {
      const was = sel.value;
      fill(sel, h('option', { value: '' }, all), ...values.map((v) => h('option', { value: v }, v)));
      sel.value = values.includes(was) ? was : '';
    };
    pick(this.provider, 'All providers', [...new Set(this.jobs.map((j) => j.provider))].sort());
    pick(this.kind, 'All kinds', [...new Set(this.jobs.map(kindOf))].sort());
  }

  private draw(): void {
    const shown = this.jobs.filter(
      (j) =>
        (!this.provider.value || j.provider === this.provider.value) &&
        (!this.kind.value || kindOf(j) === this.kind.value),
    );
    this.grid.replaceChildren(
      ...shown.map((j) => {
        const card = h(
          'button',
          {
            type: 'button',
            class: 'card',
            'data-testid': 'gallery-item',
            'data-job-id': j.job_id,
            'data-provider': j.provider,
            'data-kind': kindOf(j),
            'data-status': j.status,
            title: typeof j.arguments?.prompt === 'string' ? j.arguments.prompt : j.tool,
          },
          thumb(this.app, j),
          h('strong', {}, j.tool),
          h('small', {}, `${j.status} · ${when(j.created_at)}`),
        );
        card.addEventListener('click', () => this.open(j.job_id));
        return card;
      }),
    );
    this.count.textContent = `${shown.length} of ${this.jobs.length} job${this.jobs.length === 1 ? '' : 's'}${this.cursor ? ' (more below)' : ''}`;
    this.more.hidden = !this.cursor;
  }
}
