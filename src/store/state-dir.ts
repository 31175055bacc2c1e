/** The per-user state folder (no store driver loaded: config.ts needs only the path). */
import os from 'node:os';
import path from 'node:path';

const APP = 'mediagen-mcp';

/**
 * The platform's per-user state folder for mediagen-mcp (env is passed in: config.ts is the only
 * module that reads process.env):
 * - Linux and other Unixes: `$XDG_STATE_HOME/mediagen-mcp` (when set and absolute, per the XDG spec),
 *   else `~/.local/state/mediagen-mcp`;
 * - macOS: `~/Library/Application Support/mediagen-mcp`;
 * - Windows: `%LOCALAPPDATA%\mediagen-mcp`, else `~\AppData\Local\mediagen-mcp`.
 */
export function defaultStateDir(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (platform === 'win32') {
    // Windows variable names are case-insensitive; a copied env object may spell it LocalAppData.
    const local = Object.entries(env).find(([k, v]) => k.toUpperCase() === 'LOCALAPPDATA' && v)?.[1];
    return local ? path.win32.join(local, APP) : path.win32.join(home, 'AppData', 'Local', APP);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', APP);
  const xdg = env.XDG_STATE_HOME;
  if (xdg && path.posix.isAbsolute(xdg)) return path.posix.join(xdg, APP);
  return path.posix.join(home, '.local', 'state', APP);
}
