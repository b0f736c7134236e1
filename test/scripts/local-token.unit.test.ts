import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { apiAccess } from '../../scripts/local-token.ts';

const dirs: string[] = [];

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aso-token-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('the token of npm start', () => {
  it('is generated once, readable by its owner only, and reused by the next start', () => {
    const dir = stateDir();

    const first = apiAccess(dir, {});
    const path = join(dir, 'token');
    expect(first.local?.path).toBe(path);
    expect(first.local?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.env).toEqual({ ASO_API_TOKENS: `read-write:${first.local?.token ?? ''}` });
    expect(readFileSync(path, 'utf8').trim()).toBe(first.local?.token);
    expect(modeOf(path)).toBe(0o600);

    expect(apiAccess(dir, {}).local?.token).toBe(first.local?.token);
  });

  it('narrows a widened mode, and replaces a token the API would refuse', () => {
    const dir = stateDir();
    const path = join(dir, 'token');
    writeFileSync(path, 'kept-token-from-an-earlier-start\n');
    chmodSync(path, 0o644);

    expect(apiAccess(dir, {}).local?.token).toBe('kept-token-from-an-earlier-start');
    expect(modeOf(path)).toBe(0o600);

    writeFileSync(path, 'short\n');
    chmodSync(path, 0o644);
    const replaced = apiAccess(dir, {}).local?.token;
    expect(replaced).not.toBe('short');
    expect(readFileSync(path, 'utf8').trim()).toBe(replaced);
    expect(modeOf(path)).toBe(0o600);
  });

  it('leaves the tokens to the operator when they are configured', () => {
    const dir = stateDir();

    expect(apiAccess(dir, { ASO_API_TOKENS: 'read-only:x' })).toEqual({ env: {} });
    expect(apiAccess(dir, { ASO_API_TOKENS_FILE: '/run/secrets/tokens' })).toEqual({ env: {} });
    expect(() => statSync(join(dir, 'token'))).toThrow();
  });
});
