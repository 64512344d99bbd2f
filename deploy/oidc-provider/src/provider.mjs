// oidc-provider configuration that mirrors what ProConnect offers to a service provider.

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

import { errorPage, logoutPage, logoutSuccessPage } from './pages.mjs';

export const SCOPES = ['openid', 'email', 'given_name', 'usual_name', 'uid', 'siret', 'idp_id'];

// acr values that ProConnect documents: "eidas1" and the newer assurance levels.
export const ACR_VALUES = [
  'eidas1',
  'eidas2',
  'eidas3',
  'https://proconnect.gouv.fr/assurance/self-asserted',
  'https://proconnect.gouv.fr/assurance/self-asserted-2fa',
  'https://proconnect.gouv.fr/assurance/consistency-checked',
  'https://proconnect.gouv.fr/assurance/consistency-checked-2fa',
];
export const DEFAULT_ACR = 'eidas1';

const ACCESS_TOKEN_TTL_SECONDS = 60; // ProConnect access tokens are valid for 60 seconds.
const ID_TOKEN_TTL_SECONDS = 60 * 60;
const INTERACTION_TTL_SECONDS = 60 * 60;
const SESSION_TTL_SECONDS = 12 * 60 * 60; // ProConnect sessions last 12 hours.

/** Computes the RFC 7638 thumbprint of an RSA public JWK, used as its key id. */
function rsaThumbprint({ e, n }) {
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
}

/** Generates the RS256 signing key. It lives only in memory, so a restart invalidates every token. */
function generateSigningJwk() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: rsaThumbprint(jwk), use: 'sig', alg: 'RS256' };
}

/**
 * Returns the acr to record at login: the first supported value of the request's acr_values
 * (or of its claims parameter), else DEFAULT_ACR.
 */
export function chooseAcr(interactionParams) {
  const requested = [];
  if (typeof interactionParams.acr_values === 'string') {
    requested.push(...interactionParams.acr_values.split(' '));
  }
  if (typeof interactionParams.claims === 'string') {
    try {
      const acrRequest = JSON.parse(interactionParams.claims)?.id_token?.acr;
      if (typeof acrRequest?.value === 'string') {
        requested.push(acrRequest.value);
      }
      if (Array.isArray(acrRequest?.values)) {
        requested.push(...acrRequest.values);
      }
    } catch {
      // oidc-provider already rejects an invalid claims parameter before any interaction.
    }
  }
  return requested.find((value) => ACR_VALUES.includes(value)) ?? DEFAULT_ACR;
}

/**
 * Grants every requested scope and claim to the first-party client once the user is signed in,
 * so no consent page is shown. ProConnect shows no consent page after login either.
 */
async function grantRequestedScopes(ctx) {
  const { oidc } = ctx;
  const accountId = oidc.session.accountId;
  if (!accountId) {
    return undefined;
  }

  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId) {
    grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId });
  }
  grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
  if (oidc.requestParamClaims.size) {
    grant.addOIDCClaims([...oidc.requestParamClaims]);
  }
  await grant.save();
  return grant;
}

function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = errorPage({
    title: 'Erreur du fournisseur d’identité de test',
    message: 'La requête OpenID Connect a été refusée.',
    details: Object.entries(out),
  });
}

function logoutSource(ctx) {
  // The page builds its own form because the one oidc-provider passes carries only the xsrf
  // token. The added logout=yes ends the whole provider session, as logout does at ProConnect.
  ctx.body = logoutPage({
    action: ctx.oidc.urlFor('end_session_confirm'),
    xsrf: ctx.oidc.session.state.secret,
  });
}

function postLogoutSuccessSource(ctx) {
  ctx.body = logoutSuccessPage();
}

/** Creates the oidc-provider instance for `config`, reading accounts from `accounts`. */
export function createProvider(config, accounts) {
  const { client } = config;

  return new Provider(config.issuer, {
    clients: [{
      client_id: client.clientId,
      client_secret: client.clientSecret,
      application_type: 'web',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      // With a signing algorithm, oidc-provider returns userinfo as application/jwt, as ProConnect does.
      userinfo_signed_response_alg: 'RS256',
    }],
    // NOTE: oidc-provider 9 treats client_secret_basic and client_secret_post as the same method
    // for a secret-based client, so a token request using HTTP Basic authentication still succeeds.
    clientAuthMethods: ['client_secret_post'],
    // ProConnect offers only the authorization code flow.
    responseTypes: ['code'],
    jwks: { keys: [generateSigningJwk()] },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256'],
      userinfoSigningAlgValues: ['RS256'],
    },

    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      email: ['email'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
      uid: ['uid'],
      siret: ['siret', 'organization_label'],
      idp_id: ['idp_id'],
      acr: null,
      amr: null,
      auth_time: null,
      iss: null,
      sid: null,
    },
    acrValues: ACR_VALUES,
    // ProConnect accepts idp_hint to skip its identity provider selection. Here it only pre-fills idp_id.
    extraParams: ['idp_hint'],
    findAccount: (ctx, sub) => accounts.findAccount(sub),
    loadExistingGrant: grantRequestedScopes,

    // PKCE is accepted but not required for this confidential client.
    pkce: { required: () => false },
    ttl: {
      AuthorizationCode: config.codeTtlSeconds,
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      IdToken: ID_TOKEN_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      Session: SESSION_TTL_SECONDS,
      Grant: SESSION_TTL_SECONDS,
    },

    cookies: {
      // A random key signs the cookies. Sessions do not survive a restart anyway (memory adapter).
      keys: [randomBytes(32).toString('base64url')],
      // No `secure` flag is set here: oidc-provider marks cookies secure only for https
      // requests, so the provider works on plain http://localhost.
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },

    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      // ProConnect offers none of these, so the discovery document does not advertise them.
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
    },
    // The client is a server-side web application: browsers never call the endpoints cross-origin.
    clientBasedCORS: () => false,
    renderError,
  });
}
