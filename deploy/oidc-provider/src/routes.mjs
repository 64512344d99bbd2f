// Koa middleware for the routes that oidc-provider leaves to the application:
// the health check and the login interaction.

import { errors } from 'oidc-provider';

import { DEFAULT_IDP_ID, InvalidIdentityError, identityFromForm } from './accounts.mjs';
import { chooseAcr } from './provider.mjs';
import { errorPage, loginPage } from './pages.mjs';

const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;
const MAX_FORM_BYTES = 64 * 1024;

class BadRequestError extends Error {}

async function readUrlEncodedForm(req) {
  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.startsWith('application/x-www-form-urlencoded')) {
    throw new BadRequestError(`expected an application/x-www-form-urlencoded body, got "${contentType}"`);
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) {
      throw new BadRequestError(`the form body is larger than ${MAX_FORM_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendPage(ctx, status, html) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

/**
 * Creates the middleware that serves GET /health and the /interaction/:uid pages.
 * Other paths go to the next middleware.
 */
export function createRoutes({ provider, accounts, demoIdentities, clientId, logger }) {
  const demoByEmail = new Map(demoIdentities.map((identity) => [identity.email.toLowerCase(), identity]));

  async function loadInteraction(ctx, uid) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) {
      throw new errors.SessionNotFound('the interaction cookie belongs to another interaction');
    }
    return details;
  }

  function renderLogin(ctx, details, { status = 200, errorMessage } = {}) {
    sendPage(ctx, status, loginPage({
      uid: details.uid,
      clientId: details.params.client_id ?? clientId,
      identities: demoIdentities,
      defaults: { email: details.params.login_hint, idp_id: details.params.idp_hint ?? DEFAULT_IDP_ID },
      errorMessage,
    }));
  }

  async function finishInteraction(ctx, result) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function showInteraction(ctx, details) {
    if (details.prompt.name === 'login') {
      renderLogin(ctx, details);
      return;
    }
    // The consent prompt should not occur because loadExistingGrant grants every requested
    // scope. If a future oidc-provider requests consent anyway, grant the request without a page.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope ?? 'openid');
    const grantId = await grant.save();
    await finishInteraction(ctx, { consent: { grantId } });
  }

  async function submitLogin(ctx, details) {
    if (details.prompt.name !== 'login') {
      throw new BadRequestError(`this interaction expects the "${details.prompt.name}" prompt, not a login`);
    }
    const form = await readUrlEncodedForm(ctx.req);
    const choice = (form.get('identity') ?? '').trim();

    let identity;
    if (choice === '' || choice === 'custom') {
      try {
        identity = identityFromForm(form);
      } catch (error) {
        if (error instanceof InvalidIdentityError) {
          renderLogin(ctx, details, { status: 400, errorMessage: `Formulaire invalide : ${error.message}.` });
          return;
        }
        throw error;
      }
    } else {
      identity = demoByEmail.get(choice.toLowerCase());
      if (!identity) {
        renderLogin(ctx, details, { status: 400, errorMessage: `Identité de démonstration inconnue : ${choice}.` });
        return;
      }
    }

    const accountId = accounts.register(identity);
    const acr = chooseAcr(details.params);
    logger.info(`login: interaction=${details.uid} email=${identity.email ?? '(none)'} idp_id=${identity.idp_id} sub=${accountId} acr=${acr}`);
    await finishInteraction(ctx, { login: { accountId, acr, amr: ['pwd'] } });
  }

  async function abortInteraction(ctx, details) {
    logger.info(`login aborted: interaction=${details.uid}`);
    await finishInteraction(ctx, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    });
  }

  return async function routes(ctx, next) {
    if (ctx.path === '/health') {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.status = 405;
        ctx.set('Allow', 'GET, HEAD');
        return;
      }
      ctx.type = 'text/plain';
      ctx.body = 'ok';
      return;
    }

    const match = INTERACTION_PATH.exec(ctx.path);
    if (!match) {
      await next();
      return;
    }
    const [, uid, action] = match;
    const expectedMethod = action ? 'POST' : 'GET';
    if (ctx.method !== expectedMethod) {
      ctx.status = 405;
      ctx.set('Allow', expectedMethod);
      return;
    }

    try {
      const details = await loadInteraction(ctx, uid);
      if (action === 'login') {
        await submitLogin(ctx, details);
      } else if (action === 'abort') {
        await abortInteraction(ctx, details);
      } else {
        await showInteraction(ctx, details);
      }
    } catch (error) {
      if (error instanceof errors.SessionNotFound) {
        logger.warn(`interaction ${uid}: ${error.error_description ?? error.message}`);
        sendPage(ctx, 400, errorPage({
          title: 'Demande de connexion introuvable',
          message: 'Cette demande de connexion a expiré ou ne correspond pas à ce navigateur. '
            + 'Recommencez la connexion depuis le service.',
          details: [['error_description', error.error_description ?? error.message]],
        }));
        return;
      }
      if (error instanceof BadRequestError) {
        logger.warn(`interaction ${uid}: ${error.message}`);
        sendPage(ctx, 400, errorPage({ title: 'Requête invalide', message: error.message }));
        return;
      }
      throw error;
    }
  };
}
