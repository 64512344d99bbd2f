// Local OpenID Connect provider that behaves like ProConnect, for development, demos and
// automated tests. It is a configuration of the oidc-provider package. docs/oidc-provider.md
// describes its settings and how it differs from ProConnect.
//
// Start: node deploy/oidc-provider/server.mjs

import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AccountStore, InvalidIdentityError, loadDemoIdentities } from './src/accounts.mjs';
import { ConfigurationError, loadConfig } from './src/config.mjs';
import { createProvider } from './src/provider.mjs';
import { createRoutes } from './src/routes.mjs';

const SHUTDOWN_TIMEOUT_MS = 5000;

// oidc-provider events that report a rejected request. Each one is logged on one line.
const REJECTION_EVENTS = [
  'authorization.error',
  'grant.error',
  'userinfo.error',
  'end_session.error',
  'end_session_confirm.error',
  'end_session_success.error',
  'discovery.error',
  'jwks.error',
];

const logger = {
  info: (message) => console.log(`oidc-provider: ${message}`),
  warn: (message) => console.warn(`oidc-provider: ${message}`),
  error: (message) => console.error(`oidc-provider: ${message}`),
};

function logProviderEvents(provider) {
  for (const event of REJECTION_EVENTS) {
    provider.on(event, (ctx, error) => {
      const detail = error.error_detail ? ` detail=${error.error_detail}` : '';
      logger.warn(`${event}: ${ctx.method} ${ctx.path} ${error.error ?? error.name}: ${error.error_description ?? error.message}${detail}`);
    });
  }
  provider.on('server_error', (ctx, error) => {
    logger.error(`server_error: ${ctx.method} ${ctx.path}: ${error.stack ?? error}`);
  });
  // Errors thrown outside oidc-provider's own routes, for example by the interaction pages.
  provider.on('error', (error, ctx) => {
    logger.error(`unhandled error: ${ctx?.method ?? ''} ${ctx?.path ?? ''}: ${error.stack ?? error}`);
  });
}

function stopOnSignals(server) {
  let stopping = false;
  const stop = (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info(`${signal} received, stopping`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn(`connections still open after ${SHUTDOWN_TIMEOUT_MS} ms, exiting anyway`);
      process.exit(0);
    }, SHUTDOWN_TIMEOUT_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main() {
  const scriptDir = path.dirname(fileURLToPath(import.meta.url));
  const config = loadConfig(process.env, scriptDir);
  const demoIdentities = await loadDemoIdentities(config.identitiesFile);

  const accounts = new AccountStore();
  for (const identity of demoIdentities) {
    accounts.register(identity);
  }

  const provider = createProvider(config, accounts);
  logProviderEvents(provider);
  provider.use(createRoutes({
    provider,
    accounts,
    demoIdentities,
    clientId: config.client.clientId,
    logger,
  }));

  const server = http.createServer(provider.callback());
  server.on('error', (error) => {
    logger.error(`cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    logger.info(`listening on http://${config.host}:${config.port} with issuer ${config.issuer}, `
      + `client ${config.client.clientId}, ${demoIdentities.length} demo identities from ${config.identitiesFile}`);
  });
  stopOnSignals(server);
}

main().catch((error) => {
  if (error instanceof ConfigurationError || error instanceof InvalidIdentityError) {
    logger.error(`invalid configuration: ${error.message}`);
    process.exit(2);
  }
  logger.error(`failed to start: ${error.stack ?? error}`);
  process.exit(1);
});
