// HTML pages shown to the person signing in. The text is in French, like ProConnect's pages.

import { FORM_FIELDS } from './accounts.mjs';

export function escapeHtml(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; line-height: 1.5; margin: 0; color: #161616; background: #f6f6f6; }
  main { max-width: 44rem; margin: 0 auto; padding: 1.5rem; background: #fff; }
  h1 { font-size: 1.6rem; margin-top: 0; }
  h2 { font-size: 1.2rem; margin-top: 2rem; }
  .notice { border-left: 4px solid #000091; background: #eef; padding: 0.5rem 1rem; }
  .error { border-left: 4px solid #ce0500; background: #fee; padding: 0.5rem 1rem; }
  ul.identities { list-style: none; padding: 0; }
  ul.identities li { margin-bottom: 0.5rem; }
  button { font: inherit; cursor: pointer; padding: 0.5rem 1rem; border: 1px solid #000091; border-radius: 4px; }
  button.primary { background: #000091; color: #fff; }
  ul.identities button { width: 100%; text-align: left; background: #fff; color: #161616; }
  ul.identities button:hover { background: #eef; }
  button:focus-visible, input:focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }
  .identity-detail { display: block; font-size: 0.9rem; color: #3a3a3a; }
  label { display: block; font-weight: 600; margin-top: 0.75rem; }
  .hint { display: block; font-weight: normal; font-size: 0.9rem; color: #3a3a3a; }
  input[type=text] { font: inherit; width: 100%; box-sizing: border-box; padding: 0.4rem; border: 1px solid #666; border-radius: 4px; }
  .actions { margin-top: 1rem; }
  code { font-size: 0.95em; }
`;

function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${escapeHtml(title)}</title>
  <style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

const FIELD_LABELS = {
  email: ['Adresse électronique (email)', 'Laisser vide pour un compte sans claim « email ».'],
  given_name: ['Prénom (given_name)', 'Laisser vide pour omettre le claim.'],
  usual_name: ["Nom d'usage (usual_name)", 'Laisser vide pour omettre le claim.'],
  uid: ['Identifiant technique (uid)', 'Laisser vide pour un identifiant calculé à partir des autres champs.'],
  siret: ['SIRET (14 chiffres)', 'Laisser vide pour omettre le claim ; aucune vérification de format.'],
  organization_label: ["Libellé de l'organisation (organization_label)", 'Laisser vide pour omettre le claim.'],
  idp_id: ["Identifiant du fournisseur d'identité (idp_id)", 'Le « sub » change quand cette valeur change.'],
};

function identityButton(identity) {
  const name = `${identity.given_name} ${identity.usual_name}`;
  const details = [identity.email, identity.organization_label, identity.description].filter(Boolean);
  return `<li><button type="submit" name="identity" value="${escapeHtml(identity.email)}">
    <strong>${escapeHtml(name)}</strong>
    ${details.map((detail) => `<span class="identity-detail">${escapeHtml(detail)}</span>`).join('\n    ')}
  </button></li>`;
}

function freeFormField(field, value) {
  const [label, hint] = FIELD_LABELS[field];
  const inputMode = field === 'email' ? ' inputmode="email"' : '';
  return `<label for="field-${field}">${escapeHtml(label)}
    <span class="hint" id="hint-${field}">${escapeHtml(hint)}</span></label>
  <input type="text" id="field-${field}" name="${field}" value="${escapeHtml(value ?? '')}"
    aria-describedby="hint-${field}" autocomplete="off" spellcheck="false"${inputMode}>`;
}

/**
 * Renders the login page of an interaction: one button per demo identity and a free form.
 * `defaults` pre-fills the free form, for example with the request's login_hint.
 */
export function loginPage({ uid, clientId, identities, defaults, errorMessage }) {
  const action = `/interaction/${encodeURIComponent(uid)}/login`;
  const abortAction = `/interaction/${encodeURIComponent(uid)}/abort`;
  const error = errorMessage
    ? `<p class="error" role="alert">${escapeHtml(errorMessage)}</p>`
    : '';
  const demoList = identities.length
    ? `<form method="post" action="${action}" id="demo-identities-form">
  <ul class="identities">
  ${identities.map(identityButton).join('\n  ')}
  </ul>
</form>`
    : "<p>Aucune identité de démonstration n'est configurée.</p>";

  return layout('Connexion de test ProConnect', `<h1>Connexion de test ProConnect</h1>
<p class="notice">Fournisseur d'identité de test qui imite ProConnect, pour le développement,
les démonstrations et les tests automatisés. Il ne vérifie aucun mot de passe :
n'y saisissez jamais de données réelles.</p>
<p>Service qui demande la connexion : <strong>${escapeHtml(clientId)}</strong></p>
${error}
<section aria-labelledby="demo-title">
<h2 id="demo-title">Identités de démonstration</h2>
${demoList}
</section>
<section aria-labelledby="custom-title">
<h2 id="custom-title">Autre identité</h2>
<form method="post" action="${action}" id="custom-identity-form">
  <input type="hidden" name="identity" value="custom">
  ${FORM_FIELDS.map((field) => freeFormField(field, defaults[field])).join('\n  ')}
  <div class="actions"><button type="submit" class="primary">Se connecter avec cette identité</button></div>
</form>
</section>
<section aria-labelledby="abort-title">
<h2 id="abort-title">Annuler</h2>
<form method="post" action="${abortAction}" id="abort-form">
  <button type="submit">Annuler et revenir au service</button>
</form>
</section>`);
}

export function errorPage({ title, message, details = [] }) {
  const detailList = details.length
    ? `<ul>${details.map(([name, value]) => `<li><code>${escapeHtml(name)}</code> : ${escapeHtml(value)}</li>`).join('')}</ul>`
    : '';
  return layout(title, `<h1>${escapeHtml(title)}</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>
${detailList}`);
}

/**
 * Renders the RP-initiated logout page. Browsers submit the form at once. Clients without
 * JavaScript POST its hidden inputs to its action, which is the end_session confirmation URL.
 */
export function logoutPage({ action, xsrf }) {
  return layout('Déconnexion', `<h1>Déconnexion</h1>
<form id="op.logoutForm" method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
  <input type="hidden" name="logout" value="yes">
  <p>Déconnexion en cours…</p>
  <noscript><button type="submit" class="primary">Continuer la déconnexion</button></noscript>
</form>
<script>document.getElementById('op.logoutForm').submit();</script>`);
}

export function logoutSuccessPage() {
  return layout('Déconnexion réussie', `<h1>Déconnexion réussie</h1>
<p>Vous êtes déconnecté du fournisseur d'identité de test. Vous pouvez fermer cette page.</p>`);
}
