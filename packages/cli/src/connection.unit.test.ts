import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { GlobalOptions } from './args.ts';
import { DEFAULT_API_URL, resolveConnection } from './connection.ts';

const NO_FLAGS: GlobalOptions = {
  apiUrl: undefined,
  token: undefined,
  tokenFile: undefined,
  output: 'text',
};

function stateDir(token?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aso-cli-'));
  if (token !== undefined) writeFileSync(join(dir, 'token'), `${token}\n`);
  return dir;
}

describe('where the API and its token come from', () => {
  it("falls back to npm start's URL and token file in the repository", () => {
    const repo = stateDir();
    const local = join(repo, '.local');
    const withLocal = () => {
      const dir = stateDir('local-token-abc');
      return resolveConnection(NO_FLAGS, { ASO_STATE_DIR: dir });
    };

    expect(withLocal()).toMatchObject({ apiUrl: DEFAULT_API_URL, token: 'local-token-abc' });
    expect(withLocal().tokenSource).toMatch(/token \(written by npm start\)$/);
    expect(() => resolveConnection(NO_FLAGS, {}, repo)).toThrow(
      `no API token: pass --token or --token-file, set ASO_API_TOKEN or ASO_API_TOKEN_FILE, or start the system with npm start, which writes ${join(local, 'token')}`,
    );
  });

  it('prefers flags to the environment, and the environment to the token file', () => {
    const dir = stateDir('from-state-dir');
    const env = {
      ASO_API_TOKEN: 'from-env',
      ASO_API_URL: 'http://127.0.0.1:9000/',
      ASO_STATE_DIR: dir,
    };

    expect(resolveConnection(NO_FLAGS, env)).toEqual({
      apiUrl: 'http://127.0.0.1:9000',
      token: 'from-env',
      tokenSource: 'ASO_API_TOKEN',
    });
    expect(
      resolveConnection({ ...NO_FLAGS, token: 'from-flag', apiUrl: 'http://localhost:1234' }, env),
    ).toEqual({
      apiUrl: 'http://localhost:1234',
      token: 'from-flag',
      tokenSource: '--token',
    });
    const file = join(stateDir('from-file'), 'token');
    expect(resolveConnection({ ...NO_FLAGS, tokenFile: file }, env)).toMatchObject({
      token: 'from-file',
      tokenSource: `--token-file ${file}`,
    });
    expect(resolveConnection(NO_FLAGS, { ASO_API_TOKEN_FILE: file })).toMatchObject({
      token: 'from-file',
    });
  });

  it('says which setting is wrong', () => {
    const env = { ASO_API_TOKEN: 'x' };
    expect(() => resolveConnection({ ...NO_FLAGS, apiUrl: 'localhost:8080' }, env)).toThrow(
      '--api-url must be an http or https URL, not "localhost:8080"',
    );
    expect(() => resolveConnection(NO_FLAGS, { ...env, ASO_API_URL: 'not a url' })).toThrow(
      'ASO_API_URL is not a URL: "not a url" (e.g. http://127.0.0.1:8080)',
    );
    expect(() =>
      resolveConnection({ ...NO_FLAGS, tokenFile: '/nonexistent/aso-token' }, env),
    ).toThrow('cannot read the token file named by --token-file /nonexistent/aso-token: ENOENT');
    expect(() => resolveConnection({ ...NO_FLAGS, token: ' ' }, env)).toThrow(
      'the token from --token is empty or contains spaces',
    );
  });
});
