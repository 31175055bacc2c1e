/**
 * The Content-Security-Policy a host gives a view, built from the resource's `_meta.ui.csp` as SEP-1865
 * says: with no csp, `default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self'
 * 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'`; resourceDomains
 * widen script, style, img, media and font sources; connectDomains connect-src; frameDomains frame-src;
 * baseUriDomains base-uri. A source that is not a plain origin (a `;`, a quote, a path) is dropped, so a
 * server cannot write directives of its own.
 */
export interface ViewCsp {
  resourceDomains?: unknown;
  connectDomains?: unknown;
  frameDomains?: unknown;
  baseUriDomains?: unknown;
}

const SOURCE = /^(?:https?|wss?):\/\/(?:\*\.)?[a-z0-9.-]+(?::\d{1,5})?$/i;

/** The valid sources of one list (anything not an array is none). */
export function sources(list: unknown): string[] {
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string' && SOURCE.test(s)) : [];
}

export function buildCsp(csp: ViewCsp | undefined): string {
  const res = sources(csp?.resourceDomains);
  const connect = sources(csp?.connectDomains);
  const frame = sources(csp?.frameDomains);
  const base = sources(csp?.baseUriDomains);
  const join = (...parts: string[]): string => parts.join(' ');
  return [
    "default-src 'none'",
    `script-src ${join("'self'", "'unsafe-inline'", ...res)}`,
    `style-src ${join("'self'", "'unsafe-inline'", ...res)}`,
    `img-src ${join("'self'", 'data:', ...res)}`,
    `media-src ${join("'self'", 'data:', ...res)}`,
    `font-src ${join("'self'", 'data:', ...res)}`,
    `connect-src ${connect.length ? connect.join(' ') : "'none'"}`,
    `frame-src ${frame.length ? frame.join(' ') : "'none'"}`,
    `base-uri ${base.length ? base.join(' ') : "'self'"}`,
    "object-src 'none'",
    "form-action 'none'",
  ].join('; ');
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** What may come before a view's <head>: a doctype, comments, the <html> start tag, white space. */
const PROLOGUE =
  /^\s*(?:<!doctype(?:\s[^>]*)?>\s*)?(?:<!--[\s\S]*?-->\s*)*(?:<html(?:\s[^>]*)?>\s*)?(?:<!--[\s\S]*?-->\s*)*/i;
const HEAD = /^<head(?:\s[^>]*)?>/i;

/**
 * The view's HTML with the policy as the first element of its head, before any script can run. HTML
 * with no <head> gets one (after its doctype and <html> tag); HTML with other markup before its <head>
 * (a script or a <body> the parser would run or open first) is refused.
 */
export function withCsp(html: string, policy: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${escapeAttr(policy)}">`;
  const prologue = PROLOGUE.exec(html)?.[0] ?? '';
  const rest = html.slice(prologue.length);
  const head = HEAD.exec(rest);
  if (head) return prologue + head[0] + meta + rest.slice(head[0].length);
  if (/<head(?:\s[^>]*)?>/i.test(rest))
    throw new Error('the view has markup before its <head>; it is not shown (its policy would come too late)');
  return `${prologue}<head>${meta}</head>${rest}`;
}
