/**
 * ui://mediagen/gallery: the principal's jobs from jobs_list (gallery.ts); a click opens the job in the
 * viewer's panel in this same view (jobs_get through the host), "Back" returns to the grid.
 */
import './style.css';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { h } from './dom.js';
import { Gallery } from './gallery.js';
import { JobPanel } from './job-panel.js';
import { policyNote } from './policy-note.js';
import { callTool, startView } from './view-app.js';

const root = document.getElementById('app') ?? document.body;
const grid = h('section', { 'data-testid': 'gallery' }, h('p', { class: 'note' }, 'Waiting for the job list…'));
const back = h('button', { type: 'button', 'data-testid': 'gallery-back' }, '← All media');
const panel = h('section', { 'data-testid': 'viewer' });
const detail = h('section', { hidden: '' }, back, panel);
root.append(grid, detail, policyNote());

const ready: { gallery?: Gallery } = {};
let early: CallToolResult | undefined;

const panels: { jobs?: JobPanel } = {};
const app = await startView('gallery', {
  result: (r) => (ready.gallery ? ready.gallery.show(r) : (early = r)),
  teardown: () => panels.jobs?.close(),
});
const jobs = new JobPanel(panel, app);
panels.jobs = jobs;
// Every open and every Back counts: a jobs_get answered after Back (or after another open) is dropped, so
// a hidden panel never shows a job or starts polling it.
let opened = 0;
const open = async (jobId: string): Promise<void> => {
  const mine = ++opened;
  jobs.stop();
  grid.hidden = true;
  detail.hidden = false;
  panel.replaceChildren(h('p', { class: 'note' }, `Opening ${jobId}…`));
  const r = await callTool(app, 'jobs_get', { job_id: jobId });
  if (mine === opened && !detail.hidden) jobs.show(r);
};
back.addEventListener('click', () => {
  opened++;
  jobs.stop();
  detail.hidden = true;
  grid.hidden = false;
});
ready.gallery = new Gallery(grid, app, (id) => void open(id));
if (early) ready.gallery.show(early);
