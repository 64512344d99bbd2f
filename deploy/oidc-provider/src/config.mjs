// Reads the provider settings from environment variables.
// docs/oidc-provider.md lists every variable with its default.

import path from 'node:path';

const DEFAULTS = {
  OIDC_PROVIDER_PORT: '9000',
  OIDC_PROVIDER_HOST: '127.0.0.1',
  OIDC_PROVIDER_ISSUER: 'http://localhost:9000',
  OIDC_CLIENT_ID: 'suivi-social',
  OIDC_CLIENT_SECRET: 'suivi-social-dev-secret',
  OIDC_REDIRECT_URIS: 'http://localhost:8000/oidc/callback/',
  OIDC_POST_LOGOUT_REDIRECT_URIS: 'http://localhost:8000/deconnexion/retour/',
  OIDC_CODE_TTL_SECONDS: '60',
};

export class ConfigurationError extends Error {}

function readSetting(env, name) {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    return DEFAULTS[name];
  }
  return value.trim();
}

function parsePositiveInteger(name, value, { max = Number.MAX_SAFE_INTEGER } = {}) {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigurationError(
      `${name} must be an integer between 1 and ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

function parseHttpUrl(name, value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${name} contains an invalid URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(`${name} must use http or https, got ${JSON.stringify(value)}`);
  }
  return url;
}

function parseUrlList(name, value) {
  const uris = value.split(',').map((item) => item.trim()).filter(Boolean);
  if (uris.length === 0) {
    throw new ConfigurationError(`${name} must contain at least one URL`);
  }
  for (const uri of uris) {
    parseHttpUrl(name, uri);
  }
  return uris;
}

/**
 * Builds the provider configuration from `env`.
 * A relative OIDC_IDENTITIES_FILE is resolved against the current directory, and the default
 * file is identities.json in `scriptDir`. Throws ConfigurationError when a value is invalid.
 */
export function loadConfig(env, scriptDir) {
  const issuerUrl = parseHttpUrl('OIDC_PROVIDER_ISSUER', readSetting(env, 'OIDC_PROVIDER_ISSUER'));
  if (issuerUrl.search || issuerUrl.hash) {
    throw new ConfigurationError('OIDC_PROVIDER_ISSUER must not contain a query or a fragment');
  }
  if (issuerUrl.pathname !== '/') {
    // oidc-provider only serves an issuer with a path when the app is mounted under that path,
    // which this server does not do.
    throw new ConfigurationError('OIDC_PROVIDER_ISSUER must not contain a path, for example http://localhost:9000');
  }

  const identitiesFile = env.OIDC_IDENTITIES_FILE?.trim()
    ? path.resolve(env.OIDC_IDENTITIES_FILE.trim())
    : path.join(scriptDir, 'identities.json');

  return {
    port: parsePositiveInteger('OIDC_PROVIDER_PORT', readSetting(env, 'OIDC_PROVIDER_PORT'), { max: 65535 }),
    host: readSetting(env, 'OIDC_PROVIDER_HOST'),
    // URL.origin drops the trailing slash, so the issuer matches the `iss` claim byte for byte.
    issuer: issuerUrl.origin,
    client: {
      clientId: readSetting(env, 'OIDC_CLIENT_ID'),
      clientSecret: readSetting(env, 'OIDC_CLIENT_SECRET'),
      redirectUris: parseUrlList('OIDC_REDIRECT_URIS', readSetting(env, 'OIDC_REDIRECT_URIS')),
      postLogoutRedirectUris: parseUrlList(
        'OIDC_POST_LOGOUT_REDIRECT_URIS',
        readSetting(env, 'OIDC_POST_LOGOUT_REDIRECT_URIS'),
      ),
    },
    codeTtlSeconds: parsePositiveInteger('OIDC_CODE_TTL_SECONDS', readSetting(env, 'OIDC_CODE_TTL_SECONDS')),
    identitiesFile,
  };
}
