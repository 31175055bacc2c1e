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

/**
 * The fastest a running job is polled (each poll is one jobs_get: one provider status request). The job's
 * `poll_after_ms` (the ledger's poll interval) makes it slower, never faster.
 */
export const MIN_POLL_MS = 2_000;
/** The longest wait between polls after errors in a row (the delay doubles from the interval). */
export const MAX_BACKOFF_MS = 60_000;
/** Failed polls in a row after which the view stops polling (the job is shown as no longer live). */
export const MAX_POLL_ERRORS = 6;
/** Error codes no retry can change: polling stops at once. */
const PERMANENT = /^(NOT_FOUND|NOT_OWNER|NOT_SUPPORTED|BAD_ARGUMENTS|NOT_CONFIGURED|PROVIDER_AUTH)\b/;

/** The delay before the next poll of `job` after `errors` failed polls in a row. */
export function pollDelay(job: Pick<JobView, 'poll_after_ms'>, errors: number): number {
  const base = Math.max(MIN_POLL_MS, typeof job.poll_after_ms === 'number' ? job.poll_after_ms : 0);
  return errors > 0 ? Math.min(Math.max(base, MAX_BACKOFF_MS), base * 2 ** Math.min(errors, 20)) : base;
}

export class JobPanel {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private shownId: string | undefined;
  private generation = 0;
  private mediaKey = '';
  private closed = false;
  private errors = 0;
  /** The open job the panel polls while the document is visible (undefined: nothing to poll). */
  private live: JobView | undefined;
  /** The Cancel button, kept across re-renders so a click during a poll's re-render is not lost. */
  private cancelButton: HTMLButtonElement | undefined;
  private cancelling = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly app: App,
  ) {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.live && !this.timer && !this.closed) this.schedule(this.live);
    });
  }

  /** Show a tool result that names a job (or its error text); polls while the job runs. */
  show(result: CallToolResult): void {
    if (this.closed) return;
    const job = asJob(result.structuredContent);
    if (!job) {
      this.stop();
      fill(
        this.root,
        h('p', { class: 'error', 'data-testid': 'job-error' }, resultText(result) || 'No job in this result.'),
      );
      return;
    }
    this.errors = 0;
    this.render(job, result.isError ? resultText(result) : undefined);
    this.schedule(job);
  }

  /** Stop polling (the panel is hidden or replaced); show() starts again. */
  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.live = undefined;
  }

  /** Stop for good (the host tears the view down): no poll, no render after this. */
  close(): void {
    this.stop();
    this.closed = true;
  }

  private schedule(job: JobView): void {
    this.stop();
    if (this.closed || FINAL_STATUSES.has(job.status)) return;
    this.live = job;
    // Hidden: no poll now; visibilitychange schedules it when the view is seen again.
    if (document.hidden) return;
    const gen = this.generation;
    this.timer = setTimeout(
      async () => {
        const r = await callTool(this.app, 'jobs_get', { job_id: job.job_id });
        if (gen !== this.generation || this.closed) return;
        this.timer = undefined;
        this.next(r, job);
      },
      pollDelay(job, this.errors),
    );
  }

  private render(job: JobView, error?: string, stale = false): void {
    const fresh = this.shownId !== job.job_id;
    this.shownId = job.job_id;
    this.root.dataset.jobId = job.job_id;
    this.root.dataset.status = job.status;
    if (stale) this.root.dataset.stale = '';
    else delete this.root.dataset.stale;
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
    const cancel = running && !stale ? this.cancelFor(job) : null;
    if (!cancel) this.cancelButton = undefined;
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

  /** The one Cancel button of the shown job (the same element across polls' re-renders). */
  private cancelFor(job: JobView): HTMLButtonElement {
    const b = this.cancelButton;
    if (b && b.dataset.jobId === job.job_id) return b;
    const button = h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel-button' }, 'Cancel job');
    button.dataset.jobId = job.job_id;
    button.addEventListener('click', () => void this.cancel(job.job_id, button));
    this.cancelButton = button;
    this.cancelling = false;
    return button;
  }

  private async cancel(jobId: string, button: HTMLButtonElement): Promise<void> {
    if (this.cancelling) return;
    this.cancelling = true;
    button.disabled = true;
    button.textContent = 'Cancelling…';
    const was = this.live;
    this.stop();
    const r = await callTool(this.app, 'jobs_cancel', { job_id: jobId });
    this.cancelling = false;
    if (this.closed || this.shownId !== jobId) return;
    if (asJob(r.structuredContent)) return this.show(r);
    button.disabled = false;
    button.textContent = 'Cancel job';
    if (was) {
      this.render(was, `Cancel failed: ${resultText(r) || 'no answer'}`);
      this.schedule(was);
    }
  }

  /**
   * A poll's answer: the job it names, or (an error) the job as it was plus why: a transient error is
   * retried with a growing delay; a permanent one, or too many in a row, stops polling and shows the job
   * as no longer live (no Cancel: its state here is stale).
   */
  private next(r: CallToolResult, was: JobView): void {
    if (asJob(r.structuredContent)) return this.show(r);
    const why = resultText(r) || 'No answer.';
    this.errors++;
    if (PERMANENT.test(why) || this.errors >= MAX_POLL_ERRORS) {
      this.stop();
      this.render(was, `Stopped updating: ${why}`, true);
      return;
    }
    const delay = pollDelay(was, this.errors);
    this.render(was, `Could not update (retrying in ${Math.round(delay / 1000)} s): ${why}`);
    this.schedule(was);
  }
}
