/**
 * The MCP App views this server serves (DESIGN §12): their ui:// addresses, the extension's names, and the
 * payload of an approval a person clicks. Shared by the server side (resources, tool _meta, consent) and,
 * as types only, by the browser code in views/app/.
 */

/** The MCP Apps extension (SEP-1865) as a client declares it under capabilities.extensions. */
export const UI_EXTENSION = 'io.modelcontextprotocol/ui';
/** The one MIME type of an MCP App view. */
export const VIEW_MIME = 'text/html;profile=mcp-app';

/** One job: status and progress live, price and charge, prompt, media, downloads, cancel; approval mode. */
export const VIEWER_URI = 'ui://mediagen/viewer';
/** The principal's outputs, newest first, with filters; a click opens the job in the viewer. */
export const GALLERY_URI = 'ui://mediagen/gallery';
/** Credits per provider per day (30 days), caps used and left, uncertain reservations, refunds. */
export const SPEND_URI = 'ui://mediagen/spend';

/** Each view's file name in dist/views/ (built by scripts/build-views.mjs from views/app/<name>.ts). */
export const VIEW_FILES: Readonly<Record<string, string>> = {
  [VIEWER_URI]: 'viewer.html',
  [GALLERY_URI]: 'gallery.html',
  [SPEND_URI]: 'spend.html',
};

/** The app-only tool that redeems a pending approval (visibility ["app"]: hidden from the model). */
export const APPROVE_TOOL = 'mediagen_approve';
/** The app-only tool that answers one output's thumbnail as an image block, with no provider poll. */
export const THUMBNAIL_TOOL = 'media_thumbnail';

/**
 * Key, in a CONFIRMATION_REQUIRED result's `_meta`, of the pending approval the viewer shows in approval
 * mode. `_meta` is for the view, not the model (SEP-1865 "Data Passing").
 */
export const APPROVAL_META = 'mediagen/approval';

/** What the viewer shows in approval mode, and the id its Approve / Decline buttons send back. */
export interface ApprovalView {
  /** Opaque and single-use; bound to tool, canonical arguments, principal and expiry. */
  approval_id: string;
  tool: string;
  title: string;
  /** Every argument the approved call runs (long strings, and long nested values as JSON text, cut for display). */
  key_args: Record<string, unknown>;
  /** "15 credits", "up to 54.6 credits", "unknown; last observed 12 credits (…)". */
  price_text: string;
  /** The provider's balance as text, when it has a free balance route; else null. */
  balance_text: string | null;
  /** What is left of each cap, in words ("day cap: 380 of 500 credits left"); empty when no cap is set. */
  caps_left: string[];
  /** Why consent is needed (over the threshold, an expensive model, an unknown price). */
  reason: string;
  /** ISO time after which the approval is refused. */
  expires_at: string;
}

/** Whether the client declared the MCP Apps extension with the view MIME type. */
export function appsCapable(capabilities: { extensions?: Record<string, unknown> } | undefined): boolean {
  const ui = capabilities?.extensions?.[UI_EXTENSION] as { mimeTypes?: unknown } | undefined;
  return Array.isArray(ui?.mimeTypes) && ui.mimeTypes.includes(VIEW_MIME);
}
