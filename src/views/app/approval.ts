/**
 * The viewer's approval mode: a CONFIRMATION_REQUIRED result whose `_meta["mediagen/approval"]` is an
 * ApprovalView shows what the call would do and costs, with Approve / Decline. The buttons call the
 * app-only approval tool (hidden from the model, so only a person in the view can press them); Approve's
 * answer is a normal job result, shown by the job panel; Decline's says nothing was charged.
 */
import type { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { APPROVAL_META, APPROVE_TOOL, type ApprovalView } from '../uris.js';
import { fill, h, shown, when } from './dom.js';
import { asJob, resultText } from './job-data.js';
import { callTool } from './view-app.js';

/** The approval a result carries, if it is a CONFIRMATION_REQUIRED error with one. */
export function approvalOf(r: CallToolResult): ApprovalView | undefined {
  const a = (r._meta as Record<string, unknown> | undefined)?.[APPROVAL_META] as Partial<ApprovalView> | undefined;
  return r.isError && a && typeof a.approval_id === 'string' && typeof a.tool === 'string'
    ? (a as ApprovalView)
    : undefined;
}

export class ApprovalPanel {
  constructor(
    private readonly root: HTMLElement,
    private readonly app: App,
    private readonly a: ApprovalView,
    /** Shows the job Approve's result names. */
    private readonly showJob: (r: CallToolResult) => void,
  ) {}

  render(): void {
    const a = this.a;
    this.root.dataset.mode = 'approval';
    const args = h('dl', { class: 'args', 'data-testid': 'approval-args' });
    for (const [k, v] of Object.entries(a.key_args ?? {})) args.append(h('dt', {}, k), h('dd', {}, shown(v)));
    const caps = h('ul', { 'data-testid': 'approval-caps' });
    for (const c of a.caps_left ?? []) caps.append(h('li', {}, c));
    const approve = h('button', { type: 'button', class: 'primary', 'data-testid': 'approve-button' }, 'Approve');
    const decline = h('button', { type: 'button', 'data-testid': 'decline-button' }, 'Decline');
    const outcome = h('p', { 'data-testid': 'approval-outcome', role: 'status' });
    approve.addEventListener('click', () => void this.decide('approve', [approve, decline], outcome));
    decline.addEventListener('click', () => void this.decide('decline', [approve, decline], outcome));
    fill(
      this.root,
      h(
        'section',
        { class: 'approval', 'data-testid': 'approval', 'data-approval-id': a.approval_id },
        h(
          'header',
          {},
          h('h1', { 'data-testid': 'approval-tool' }, a.tool),
          h('p', { class: 'status' }, 'Needs your approval'),
        ),
        a.title ? h('p', {}, a.title) : null,
        h('p', { class: 'note', 'data-testid': 'approval-reason' }, a.reason),
        args,
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Price'),
          h('dd', { 'data-testid': 'approval-price' }, a.price_text),
          h('dt', {}, 'Balance'),
          h(
            'dd',
            { 'data-testid': 'approval-balance' },
            a.balance_text ?? 'not known (the provider has no free balance route)',
          ),
          h('dt', {}, 'Caps left'),
          h('dd', {}, a.caps_left?.length ? caps : h('span', { 'data-testid': 'approval-caps' }, 'no cap set')),
          h('dt', {}, 'Expires'),
          h('dd', { 'data-testid': 'approval-expires', 'data-expires-at': a.expires_at }, when(a.expires_at)),
        ),
        h('div', { class: 'row' }, approve, decline),
        outcome,
      ),
    );
  }

  private async decide(
    decision: 'approve' | 'decline',
    buttons: HTMLButtonElement[],
    outcome: HTMLElement,
  ): Promise<void> {
    for (const b of buttons) b.disabled = true;
    outcome.textContent = decision === 'approve' ? 'Approved; starting the job…' : 'Declining…';
    const r = await callTool(this.app, APPROVE_TOOL, { approval_id: this.a.approval_id, decision });
    if (decision === 'approve' && !r.isError && asJob(r.structuredContent)) {
      delete this.root.dataset.mode;
      this.showJob(r);
      return;
    }
    outcome.dataset.outcome = r.isError ? 'error' : decision === 'decline' ? 'declined' : 'done';
    outcome.className = r.isError ? 'error' : 'note';
    outcome.textContent =
      decision === 'decline' && !r.isError
        ? `Declined: nothing was sent or charged. ${resultText(r)}`.trim()
        : resultText(r) || (r.isError ? 'The approval was refused.' : 'Done.');
    // A refused approval (used, expired, another's) cannot be pressed again; a job error can be read above.
  }
}
