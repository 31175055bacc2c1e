/**
 * An output in a native player (img / video / audio): the kept copy when it is a URL (it outlives the
 * provider's), else the provider's URL, else the media_thumbnail app tool's image. Loads the host's CSP
 * refuses are named on the figure (data-state="blocked") and in the view's policy note.
 */
import type { App } from '@modelcontextprotocol/ext-apps';
import { THUMBNAIL_TOOL } from '../uris.js';
import { h } from './dom.js';
import type { OutputView } from './job-data.js';

export type MediaKind = 'image' | 'video' | 'audio' | 'file';

const httpUrl = (u: string | undefined): string | undefined => (u && /^https?:\/\//i.test(u) ? u : undefined);

/** Where the view loads the output from: the kept copy's URL, else the provider's. */
export function mediaUrl(o: OutputView): string | undefined {
  return httpUrl(o.stored_url) ?? httpUrl(o.url);
}

export function mediaKind(o: OutputView): MediaKind {
  const mime = o.stored_type ?? o.mime_type ?? '';
  for (const k of ['image', 'video', 'audio'] as const) if (o.kind === k || mime.startsWith(`${k}/`)) return k;
  return 'file';
}

/** URLs the host's content policy refused, as the view saw them (securitypolicyviolation). */
const blocked = new Set<string>();
const listeners = new Set<(uri: string) => void>();
document.addEventListener('securitypolicyviolation', (e) => {
  // Only loads of media by URL (ext-apps' zod probes for eval, which the policy refuses: not a media load).
  if (!/^https?:/i.test(e.blockedURI)) return;
  blocked.add(e.blockedURI);
  for (const l of listeners) l(e.blockedURI);
});

/** Call `f` for every URL the policy blocks (those blocked already first). */
export function onBlocked(f: (uri: string) => void): void {
  for (const u of blocked) f(u);
  listeners.add(f);
}

const matches = (url: string, b: string): boolean => url.startsWith(b) || b.startsWith(url);
const wasBlocked = (url: string): boolean => [...blocked].some((b) => matches(url, b));

/**
 * Figures whose load failed before the policy said why: the element's error event may come before the
 * securitypolicyviolation event, so a later violation re-marks a matching figure as blocked.
 */
const failedLoads = new Map<HTMLElement, { url: string; remark: () => void }>();
listeners.add((uri) => {
  for (const [fig, f] of failedLoads) {
    if (!fig.isConnected) failedLoads.delete(fig);
    else if (matches(f.url, uri)) {
      failedLoads.delete(fig);
      f.remark();
    }
  }
});

/** The output's thumbnail from the app-only tool, as a data: URL; undefined when it has none. */
export async function thumbnail(app: App, jobId: string, n: number): Promise<string | undefined> {
  try {
    const r = await app.callServerTool({ name: THUMBNAIL_TOOL, arguments: { job_id: jobId, output: n } });
    const img = r.content.find((c) => c.type === 'image');
    return !r.isError && img?.type === 'image' ? `data:${img.mimeType};base64,${img.data}` : undefined;
  } catch {
    return undefined;
  }
}

/** The figure of output `n` (1-based) of the job: its player, or its thumbnail, or a note. */
export function mediaFigure(app: App, jobId: string, o: OutputView, n: number): HTMLElement {
  const kind = mediaKind(o);
  const url = mediaUrl(o);
  const caption = h('figcaption', {}, `${n}. ${kind}${o.stored_url && url === o.stored_url ? ' (kept copy)' : ''}`);
  const fig = h('figure', { 'data-testid': `output-${n}`, 'data-kind': kind, 'data-state': 'loading' });
  const note = h('span', { class: 'note' });
  const useThumbnail = async (why: string): Promise<void> => {
    note.textContent = ` — ${why}`;
    caption.append(note);
    const src = kind === 'audio' ? undefined : await thumbnail(app, jobId, n);
    if (src) {
      fig.prepend(h('img', { src, alt: `thumbnail of output ${n}`, 'data-testid': `thumbnail-${n}` }));
      note.dataset.thumbnail = '';
      note.textContent = `${note.textContent}; showing its thumbnail`;
    }
  };
  const BLOCKED_WHY = "its host is not in the view's content policy";
  const failed = (): void => {
    if (fig.dataset.state === 'error' || fig.dataset.state === 'blocked') return;
    const refused = url !== undefined && wasBlocked(url);
    fig.dataset.state = refused ? 'blocked' : 'error';
    if (!refused && url !== undefined)
      failedLoads.set(fig, {
        url,
        remark: () => {
          fig.dataset.state = 'blocked';
          note.textContent = ` — ${BLOCKED_WHY}${note.dataset.thumbnail !== undefined ? '; showing its thumbnail' : ''}`;
        },
      });
    void useThumbnail(refused ? BLOCKED_WHY : 'it could not be loaded');
  };
  if (!url || kind === 'file') {
    fig.dataset.state = 'none';
    fig.append(caption);
    void useThumbnail(url ? 'no player for this kind' : 'no URL a browser can load');
    return fig;
  }
  const attrs = { src: url, 'data-testid': `media-${n}` };
  const el =
    kind === 'image'
      ? h('img', { ...attrs, alt: `output ${n}` })
      : kind === 'video'
        ? h('video', { ...attrs, controls: '', muted: '', loop: '', playsinline: '', preload: 'auto' })
        : h('audio', { ...attrs, controls: '', preload: 'auto' });
  el.addEventListener(kind === 'image' ? 'load' : 'loadeddata', () => (fig.dataset.state = 'loaded'));
  el.addEventListener('error', failed);
  fig.append(el, caption);
  return fig;
}
