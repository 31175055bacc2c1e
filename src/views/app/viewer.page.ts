/**
 * ui://mediagen/viewer: one job (job-panel.ts), or, for a CONFIRMATION_REQUIRED result that carries an
 * approval (`_meta["mediagen/approval"]`), the approval a person clicks (approval.ts).
 */
import './style.css';
import type { App } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { h } from './dom.js';
import { JobPanel } from './job-panel.js';
import { approvalOf, ApprovalPanel } from './approval.js';
import { policyNote } from './policy-note.js';
import { startView } from './view-app.js';

const root = document.getElementById('app') ?? document.body;
const panel = h('section', { 'data-testid': 'viewer' }, h('p', { class: 'note' }, 'Waiting for the tool result…'));
root.append(panel, policyNote());

let prompt: string | undefined;
// The result may come during the handshake, before the panel exists: it waits for it.
const ready: { jobs?: JobPanel } = {};
let early: CallToolResult | undefined;

function show(r: CallToolResult): void {
  const jobs = ready.jobs;
  if (!jobs) {
    early = r;
    return;
  }
  const approval = approvalOf(r);
  if (approval) new ApprovalPanel(panel, app, approval, (next) => jobs.show(next)).render();
  else jobs.show(r);
}

const app: App = await startView('viewer', {
  input: (args) => {
    prompt = typeof args.prompt === 'string' ? args.prompt : undefined;
    if (prompt && panel.dataset.jobId === undefined)
      panel.replaceChildren(h('p', { class: 'note' }, 'Starting: ', h('q', {}, prompt)));
  },
  result: show,
  teardown: () => ready.jobs?.close(),
});
ready.jobs = new JobPanel(panel, app);
if (early) show(early);
