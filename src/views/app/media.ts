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

const wasBlocked = (url: string): boolean => [...blocked].some((b) => url.startsWith(b) || b.startsWith(url));

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
  const useThumbnail = async (why: string): Promise<void> => {
    const src = kind === 'audio' ? undefined : await thumbnail(app, jobId, n);
    if (src) fig.prepend(h('img', { src, alt: `thumbnail of output ${n}`, 'data-testid': `thumbnail-${n}` }));
    caption.append(h('span', { class: 'note' }, ` — ${why}${src ? '; showing its thumbnail' : ''}`));
  };
  const failed = (): void => {
    const refused = url !== undefined && wasBlocked(url);
    fig.dataset.state = refused ? 'blocked' : 'error';
    void useThumbnail(refused ? "its host is not in the view's content policy" : 'it could not be loaded');
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
