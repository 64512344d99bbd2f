// Demo identities, identities typed in the free form, and the `sub` derived from them.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

// Identity provider used when the free form leaves idp_id empty.
// It is the idp_id of most demo identities in identities.json.
export const DEFAULT_IDP_ID = '00000000-0000-4000-8000-00000000fa01';

// Claims that the free form can set, in the order the login page shows them.
export const FORM_FIELDS = [
  'email',
  'given_name',
  'usual_name',
  'uid',
  'siret',
  'organization_label',
  'idp_id',
];

const REQUIRED_IDENTITY_FIELDS = FORM_FIELDS;
const MAX_FIELD_LENGTH = 256;

// Maximum number of accounts kept in memory. Past it, the least recently used account is dropped.
const MAX_ACCOUNTS = 10_000;

export class InvalidIdentityError extends Error {}

function sha256Hex(text) {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Derives the `sub` claim: the SHA-256 hex digest of the identity provider id and the
 * lower-cased e-mail, or of the provider id and the uid when the identity has no e-mail.
 * ProConnect also sends a 64-character hex `sub` that changes when the identity provider changes.
 */
export function subjectFor({ email, uid, idp_id: idpId }) {
  const key = email ? `email:${email.toLowerCase()}` : `uid:${uid}`;
  return sha256Hex(`${idpId}\n${key}`);
}

function validateDemoIdentity(entry, index) {
  const where = `identity #${index + 1}`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new InvalidIdentityError(`${where} must be a JSON object`);
  }
  for (const field of REQUIRED_IDENTITY_FIELDS) {
    if (typeof entry[field] !== 'string' || entry[field].trim() === '') {
      throw new InvalidIdentityError(`${where} (${entry.email ?? 'no email'}) has a missing or empty "${field}"`);
    }
  }
  if (entry.demo_roles !== undefined) {
    const roles = entry.demo_roles;
    const valid = roles !== null && typeof roles === 'object' && !Array.isArray(roles)
      && Object.values(roles).every((role) => typeof role === 'string');
    if (!valid) {
      throw new InvalidIdentityError(`${where} (${entry.email}) has a "demo_roles" that is not an object of strings`);
    }
  }
  if (entry.national !== undefined && typeof entry.national !== 'boolean') {
    throw new InvalidIdentityError(`${where} (${entry.email}) has a "national" that is not a boolean`);
  }
  if (entry.description !== undefined && typeof entry.description !== 'string') {
    throw new InvalidIdentityError(`${where} (${entry.email}) has a "description" that is not a string`);
  }
}

/**
 * Reads and validates the demo identities file: a JSON array of objects with the
 * FORM_FIELDS keys, plus optional "description", "demo_roles" and "national".
 */
export async function loadDemoIdentities(file) {
  let identities;
  try {
    identities = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InvalidIdentityError(`cannot read identities file ${file}: ${error.message}`);
  }
  if (!Array.isArray(identities)) {
    throw new InvalidIdentityError(`identities file ${file} must contain a JSON array`);
  }

  const seenEmails = new Set();
  identities.forEach((entry, index) => {
    validateDemoIdentity(entry, index);
    const email = entry.email.toLowerCase();
    if (seenEmails.has(email)) {
      throw new InvalidIdentityError(`identities file ${file} lists ${entry.email} more than once`);
    }
    seenEmails.add(email);
  });
  return identities;
}

/**
 * Builds the claims of an identity typed in the free form.
 * An empty e-mail, name, siret or organization_label leaves that claim out.
 * An empty idp_id becomes DEFAULT_IDP_ID, and an empty uid gets a value derived from the other fields.
 */
export function identityFromForm(form) {
  const values = {};
  for (const field of FORM_FIELDS) {
    const value = (form.get(field) ?? '').trim();
    if (value.length > MAX_FIELD_LENGTH) {
      throw new InvalidIdentityError(`the field "${field}" is longer than ${MAX_FIELD_LENGTH} characters`);
    }
    values[field] = value;
  }

  const identity = { idp_id: values.idp_id || DEFAULT_IDP_ID };
  for (const field of ['email', 'given_name', 'usual_name', 'siret', 'organization_label']) {
    if (values[field]) {
      identity[field] = values[field];
    }
  }

  if (values.uid) {
    identity.uid = values.uid;
  } else {
    const source = identity.email
      ? `email:${identity.email.toLowerCase()}`
      : JSON.stringify([identity.given_name, identity.usual_name, identity.siret, identity.organization_label]);
    identity.uid = `uid-${sha256Hex(`${identity.idp_id}\n${source}`).slice(0, 16)}`;
  }
  return identity;
}

/** In-memory accounts, keyed by their `sub`. */
export class AccountStore {
  #accounts = new Map();

  /** Stores the claims of `identity` and returns its `sub`, which is also the account id. */
  register(identity) {
    const sub = subjectFor(identity);
    const claims = { sub };
    for (const field of FORM_FIELDS) {
      if (identity[field] !== undefined) {
        claims[field] = identity[field];
      }
    }
    // Re-inserting moves the account to the end, so eviction drops the least recently used.
    this.#accounts.delete(sub);
    this.#accounts.set(sub, claims);
    if (this.#accounts.size > MAX_ACCOUNTS) {
      this.#accounts.delete(this.#accounts.keys().next().value);
    }
    return sub;
  }

  /** Implements oidc-provider's findAccount: returns undefined for an unknown `sub`. */
  findAccount(sub) {
    const claims = this.#accounts.get(sub);
    if (!claims) {
      return undefined;
    }
    return {
      accountId: sub,
      // oidc-provider keeps only the claims that the granted scopes allow.
      async claims() {
        return { ...claims };
      },
    };
  }
}
