/** A note naming the hosts whose media the host's content policy refused (the view cannot lift that). */
import { h } from './dom.js';
import { onBlocked } from './media.js';

export function policyNote(): HTMLElement {
  const hosts = new Set<string>();
  const list = h('span', {});
  const note = h(
    'p',
    { class: 'note', 'data-testid': 'csp-blocked', hidden: '' },
    "Not shown: media on a host outside this view's content policy (",
    list,
    '). Use the download link, or ask the operator to add the host with --view-media-hosts.',
  );
  onBlocked((uri) => {
    let host = uri;
    try {
      host = new URL(uri).host;
    } catch {
      // a keyword such as "inline": shown as it is
    }
    hosts.add(host);
    list.textContent = [...hosts].join(', ');
    note.hidden = false;
  });
  return note;
}
