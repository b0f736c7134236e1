import { createHmac, timingSafeEqual } from 'node:crypto';

import type { ApiToken, ApiTokens } from '../api-tokens.ts';

/** The cookie a browser presents to Bull Board instead of an Authorization header. */
export const ADMIN_SESSION_COOKIE = 'aso_admin_session';

/** A session outlives a coffee break, not a working day. */
export const ADMIN_SESSION_SECONDS = 3600;

/** Separates this use of the token-keyed HMAC from any other. */
const PURPOSE = 'aso-admin-session-v1';

export interface AdminSession {
  value: string;
  expiresAt: Date;
}

/**
 * A stateless session: an expiry and an HMAC of it keyed by the token's digest. The
 * cookie never holds the token nor names it, expires on its own, is accepted by
 * every API replica that knows the same token, and dies when the token is removed
 * from the configuration (nothing to revoke separately).
 */
export function issueAdminSession(token: ApiToken, now: Date): AdminSession {
  const expiresAt = new Date(now.getTime() + ADMIN_SESSION_SECONDS * 1000);
  const expiry = Math.floor(expiresAt.getTime() / 1000).toString();

  return { value: `${expiry}.${signature(token, expiry)}`, expiresAt };
}

/** The token a session cookie stands for; undefined when forged, malformed or expired. */
export function verifyAdminSession(
  tokens: ApiTokens,
  value: string,
  now: Date,
): ApiToken | undefined {
  const match = /^(\d{1,12})\.([\w-]{43})$/.exec(value);
  if (!match) return undefined;

  const [, expiry = '', presented = ''] = match;
  if (Number(expiry) * 1000 <= now.getTime()) return undefined;

  // Every token is tried, as ApiTokens.identify does, so the time taken tells nothing.
  const given = Buffer.from(presented, 'base64url');
  let found: ApiToken | undefined;
  for (const token of tokens.tokens) {
    const same = timingSafeEqual(given, Buffer.from(signature(token, expiry), 'base64url'));
    if (same && found === undefined) found = token;
  }
  return found;
}

function signature(token: ApiToken, expiry: string): string {
  return createHmac('sha256', token.digest).update(`${PURPOSE}:${expiry}`).digest('base64url');
}
