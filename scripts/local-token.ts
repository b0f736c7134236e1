/**
 * The API token of a local `npm start`: generated once, kept in the state directory
 * (git-ignored) readable by its owner only, and reused by later starts so that
 * scripts and shells holding it keep working.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ApiAccess {
  /** What the API process needs in its environment; empty when the operator configured tokens. */
  env: NodeJS.ProcessEnv;
  /** The generated token and its file, when this start provides the token. */
  local?: { token: string; path: string };
}

/** What the API accepts as a token: 16 or more base64url characters. */
const USABLE_TOKEN = /^[A-Za-z0-9_-]{16,}$/;

export function apiAccess(stateDir: string, env: NodeJS.ProcessEnv = process.env): ApiAccess {
  if (env['ASO_API_TOKENS'] !== undefined || env['ASO_API_TOKENS_FILE'] !== undefined) {
    return { env: {} };
  }

  const path = join(stateDir, 'token');
  const token = reusableToken(path) ?? newTokenFile(path);
  return { env: { ASO_API_TOKENS: `read-write:${token}` }, local: { token, path } };
}

function reusableToken(path: string): string | undefined {
  if (!existsSync(path)) return undefined;

  const token = readFileSync(path, 'utf8').trim();
  if (!USABLE_TOKEN.test(token)) return undefined;
  // A copy or an editor may have widened the mode; the token is a credential.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return token;
}

function newTokenFile(path: string): string {
  const token = randomBytes(32).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  // The mode above applies only to a new file; an unusable old one is replaced in place.
  chmodSync(path, 0o600);
  return token;
}
