/**
 * The SDK client's side of OAuth for tests: an in-memory OAuthClientProvider whose "browser" is the test
 * authorization server's no-person interaction. Give it to `StreamableHTTPClientTransport({ authProvider })`
 * (or the SDK's `auth()`): on a 401 the SDK discovers the server, registers dynamically, and calls
 * `redirectToAuthorization`, which logs in `subject` and keeps the code; then `transport.finishAuth(code)`
 * (or `auth(provider, { serverUrl, authorizationCode })`) exchanges it and the next connect carries the token.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { TestAuthServer } from './oidc.js';

export interface TestOAuthClient extends OAuthClientProvider {
  /** The code of the last authorization, once `redirectToAuthorization` ran. */
  readonly code: string | undefined;
  /** How many times the SDK sent the "user" to the authorization server. */
  readonly authorizations: number;
  /** The tokens saved so far (access_token is what the resource server sees). */
  readonly saved: OAuthTokens | undefined;
}

export interface TestOAuthClientOptions {
  /** Who logs in when the SDK asks for an authorization. */
  subject: string;
  /** Where the code goes back to; nothing listens there, the helper reads it off the redirect. */
  redirectUrl?: string;
  /** Client metadata scope (the SDK asks for the 401's `scope` when the server names one). */
  scope?: string;
}

export function testOAuthClient(as: TestAuthServer, o: TestOAuthClientOptions): TestOAuthClient {
  const redirectUrl = o.redirectUrl ?? 'http://127.0.0.1:1/oauth/callback';
  let info: OAuthClientInformationMixed | undefined;
  let tokens: OAuthTokens | undefined;
  let verifier: string | undefined;
  let code: string | undefined;
  let authorizations = 0;
  const metadata: OAuthClientMetadata = {
    client_name: `mediagen test client (${o.subject})`,
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...(o.scope ? { scope: o.scope } : {}),
  };
  return {
    get redirectUrl() {
      return redirectUrl;
    },
    get clientMetadata() {
      return metadata;
    },
    get code() {
      return code;
    },
    get authorizations() {
      return authorizations;
    },
    get saved() {
      return tokens;
    },
    clientInformation: () => info,
    saveClientInformation: (i) => {
      info = i;
    },
    tokens: () => tokens,
    saveTokens: (t) => {
      tokens = t;
    },
    redirectToAuthorization: async (url) => {
      authorizations++;
      ({ code } = await as.authorize(url, { subject: o.subject }));
    },
    saveCodeVerifier: (v) => {
      verifier = v;
    },
    codeVerifier: () => {
      if (verifier === undefined) throw new Error('no code verifier saved');
      return verifier;
    },
  };
}
