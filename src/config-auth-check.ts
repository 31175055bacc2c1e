/**
 * The cross-field rules of the authorization settings, checked at start (StartupError): `--auth oauth`
 * serves HTTP only, needs the issuer and the public URL (the resource its tokens name), and replaces the
 * tokens file; introspection needs this server's client credentials.
 */
import type { Config } from './config.js';
import { StartupError } from './errors.js';

export function checkAuthConfig(config: Config): void {
  if (config.auth !== 'oauth') {
    if (config.oauthIntrospection || config.oauthPolicy)
      throw new StartupError(
        `${config.oauthIntrospection ? '--oauth-introspection' : '--oauth-policy'} needs --auth oauth`,
      );
    return;
  }
  if (config.transport !== 'http') throw new StartupError('--auth oauth needs --transport http');
  if (!config.oauthIssuer)
    throw new StartupError('--auth oauth needs --oauth-issuer URL (MEDIAGEN_OAUTH_ISSUER): the authorization server');
  if (!config.publicUrl)
    throw new StartupError(
      '--auth oauth needs --public-url URL (MEDIAGEN_PUBLIC_URL): the URL clients use; tokens must name <public-url>/mcp',
    );
  if (config.tokensFile) throw new StartupError('--auth oauth replaces --tokens-file: give one or the other');
  if (config.oauthIntrospection && (!config.oauthClientId || !config.oauthClientSecret))
    throw new StartupError(
      "--oauth-introspection needs --oauth-client-id and MEDIAGEN_OAUTH_CLIENT_SECRET (this server's client at the introspection endpoint)",
    );
}
