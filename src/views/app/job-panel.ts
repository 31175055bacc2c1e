/**
 * One job in the viewer: status and progress (polled live through the host with jobs_get while it runs,
 * stopped once it is final), price and what was charged or refunded, the prompt and key arguments, the
 * media in native players, download links and Cancel for a running job.
 */
import type { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fill, h, shown, when } from './dom.js';
import { asJob, chargeWords, FINAL_STATUSES, priceWords, resultText, type JobView } from './job-data.js';
import { mediaFigure, mediaUrl } from './media.js';
import { callTool } from './view-app.js';

/** How often a running job is polled (each poll is one jobs_get: one provider status request). */
export const POLL_MS = 2_000;

export class JobPanel {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private shownId: string | undefined;
  private generation = 0;
  private mediaKey = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly app: App,
  ) {}

  /** Show a tool result that names a job (or its error text); polls while the job runs. */
  show(result: CallToolResult): void {
    const job = asJob(result.structuredContent);
    if (!job) {
      this.stop();
      fill(
        this.root,
        h('p', { class: 'error', 'data-testid': 'job-error' }, resultText(result) || 'No job in this result.'),
      );
      return;
    }
    this.render(job, result.isError ? resultText(result) : undefined);
    this.schedule(job);
  }

  /** Stop polling (the panel is hidden or replaced). */
  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(job: JobView): void {
    this.stop();
    if (FINAL_STATUSES.has(job.status)) return;
    const gen = this.generation;
    this.timer = setTimeout(async () => {
      const r = await callTool(this.app, 'jobs_get', { job_id: job.job_id });
      if (gen === this.generation) this.next(r, job);
    }, POLL_MS);
  }

  private render(job: JobView, error?: string): void {
    const fresh = this.shownId !== job.job_id;
    this.shownId = job.job_id;
    this.root.dataset.jobId = job.job_id;
    this.root.dataset.status = job.status;
    const running = !FINAL_STATUSES.has(job.status);
    const args = job.arguments ?? {};
    const prompt = typeof args.prompt === 'string' ? args.prompt : undefined;
    const rest = Object.entries(args).filter(([k]) => k !== 'prompt');
    const header = h(
      'header',
      {},
      h('h1', {}, job.tool),
      h(
        'p',
        { class: `status status-${job.status}`, 'data-testid': 'job-status', 'data-status': job.status },
        job.status,
        job.provider_status ? ` (${job.provider_status})` : '',
      ),
    );
    const progress =
      running &&
      (job.progress !== null
        ? h('progress', { max: '100', value: String(job.progress), 'data-testid': 'job-progress' })
        : h('progress', { 'data-testid': 'job-progress' }));
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Price'),
      h('dd', { 'data-testid': 'job-price' }, priceWords(job)),
      h('dt', {}, 'Paid'),
      h(
        'dd',
        { 'data-testid': 'job-charge', 'data-state': job.charge?.state ?? 'none' },
        chargeWords(job.charge, job.price),
      ),
      h('dt', {}, 'Job'),
      h('dd', {}, `${job.job_id} at ${job.provider}`),
      h('dt', {}, 'Created'),
      h('dd', {}, when(job.created_at)),
      job.finished_at ? h('dt', {}, 'Finished') : null,
      job.finished_at ? h('dd', {}, when(job.finished_at)) : null,
    );
    const argList = h('dl', { class: 'args', 'data-testid': 'job-args' });
    for (const [k, v] of rest) argList.append(h('dt', {}, k), h('dd', {}, shown(v)));
    const cancel = running
      ? h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel-button' }, 'Cancel job')
      : null;
    cancel?.addEventListener('click', () => void this.cancel(job, cancel));
    const problem = error ?? job.error;
    const parts = [
      header,
      progress,
      prompt !== undefined ? h('blockquote', { 'data-testid': 'job-prompt' }, prompt) : null,
      facts,
      rest.length ? argList : null,
      problem ? h('p', { class: 'error', 'data-testid': 'job-error' }, problem) : null,
      cancel,
    ];
    // The players are rebuilt only when the outputs change, so a poll never restarts a playing video.
    const key = JSON.stringify(job.outputs.map(mediaUrl));
    const media =
      (!fresh && key === this.mediaKey && this.root.querySelector<HTMLElement>('[data-testid="job-media"]')) ||
      this.mediaOf(job);
    this.mediaKey = key;
    fill(this.root, ...parts, media);
  }

  private mediaOf(job: JobView): HTMLElement {
    const section = h('section', { class: 'media', 'data-testid': 'job-media' });
    job.outputs.forEach((o, i) => section.append(mediaFigure(this.app, job.job_id, o, i + 1)));
    const links = h('ul', { class: 'downloads' });
    job.outputs.forEach((o, i) => {
      const url = mediaUrl(o);
      if (!url) return;
      const a = h(
        'a',
        { href: url, target: '_blank', rel: 'noopener', download: '', 'data-testid': `download-${i + 1}` },
        `Download ${o.kind} ${i + 1}`,
      );
      a.addEventListener('click', (e) => {
        e.preventDefault();
        void this.app.openLink({ url }).catch(() => undefined);
      });
      links.append(h('li', {}, a));
    });
    if (links.childElementCount) section.append(links);
    return section;
  }

  private async cancel(job: JobView, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    button.textContent = 'Cancelling…';
    this.stop();
    const r = await callTool(this.app, 'jobs_cancel', { job_id: job.job_id });
    this.next(r, job);
  }

  /** A poll's or cancel's answer: the job it names, or the job as it was plus why (polling stops). */
  private next(r: CallToolResult, was: JobView): void {
    if (asJob(r.structuredContent)) this.show(r);
    else this.render(was, resultText(r) || 'No answer.');
  }
}
