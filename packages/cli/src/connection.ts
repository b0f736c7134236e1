import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { UsageError } from './cli-error.ts';
import type { GlobalOptions } from './args.ts';

/** Where `npm start` serves the API unless PORT says otherwise (scripts/start.ts). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The repository this CLI belongs to: npm start keeps its token under .local there. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface Connection {
  apiUrl: string;
  token: string;
  /** Where the token came from, named in messages when the API refuses it. */
  tokenSource: string;
}

export type Environment = Record<string, string | undefined>;

/**
 * The API URL and token: flags first, then the environment, then what a local
 * `npm start` left (its token file). Throws UsageError when no token is found.
 */
export function resolveConnection(
  options: GlobalOptions,
  env: Environment,
  repoRoot = REPO_ROOT,
): Connection {
  return { apiUrl: apiUrlOf(options, env), ...tokenOf(options, env, repoRoot) };
}

function apiUrlOf(options: GlobalOptions, env: Environment): string {
  const raw = options.apiUrl ?? nonEmpty(env['ASO_API_URL']) ?? DEFAULT_API_URL;
  const source = options.apiUrl !== undefined ? '--api-url' : 'ASO_API_URL';

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${source} is not a URL: "${raw}" (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} must be an http or https URL, not "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function tokenOf(
  options: GlobalOptions,
  env: Environment,
  repoRoot: string,
): { token: string; tokenSource: string } {
  if (options.token !== undefined) return checked(options.token, '--token');
  if (options.tokenFile !== undefined) {
    return fromFile(options.tokenFile, `--token-file ${options.tokenFile}`);
  }

  const envToken = nonEmpty(env['ASO_API_TOKEN']);
  if (envToken !== undefined) return checked(envToken, 'ASO_API_TOKEN');
  const envFile = nonEmpty(env['ASO_API_TOKEN_FILE']);
  if (envFile !== undefined) return fromFile(envFile, `ASO_API_TOKEN_FILE (${envFile})`);

  const localFile = join(nonEmpty(env['ASO_STATE_DIR']) ?? join(repoRoot, '.local'), 'token');
  const local = readOrNull(localFile);
  if (local !== null) return checked(local, `${localFile} (written by npm start)`);

  throw new UsageError(
    'no API token: pass --token or --token-file, set ASO_API_TOKEN or ASO_API_TOKEN_FILE, ' +
      `or start the system with npm start, which writes ${localFile}`,
  );
}

function fromFile(path: string, source: string): { token: string; tokenSource: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new UsageError(`cannot read the token file named by ${source}: ${reason}`);
  }
  return checked(text, source);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** A token goes into a header: a stray newline from a file is trimmed, an empty one refused. */
function checked(raw: string, source: string): { token: string; tokenSource: string } {
  const token = raw.trim();
  if (token === '' || /\s/.test(token)) {
    throw new UsageError(`the token from ${source} is empty or contains spaces`);
  }
  return { token, tokenSource: source };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
