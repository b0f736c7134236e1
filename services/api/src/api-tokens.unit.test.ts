import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ConfigError } from '@aso/shared';

import { loadApiTokens, type TokenSources } from './api-tokens.ts';

const dir = mkdtempSync(join(tmpdir(), 'aso-tokens-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const WRITER = 'w0rkflow-Token_with.all~chars+/=';
const READER = 'reader-token-0123456789';

function tokenFile(content: string): string {
  const path = join(dir, `tokens-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, content);
  return path;
}

/** The ConfigError loading throws; its message must name the entry and never show the token. */
function refusal(sources: TokenSources): string {
  try {
    loadApiTokens(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('the tokens were accepted');
}

describe('loadApiTokens', () => {
  it('reads comma-separated entries from ASO_API_TOKENS', () => {
    const tokens = loadApiTokens({
      ASO_API_TOKENS: ` read-write:${WRITER} ,read-only:${READER},`,
    });

    expect(tokens.identify(WRITER)).toMatchObject({
      access: 'read-write',
      name: 'ASO_API_TOKENS entry 1',
    });
    expect(tokens.identify(READER)).toMatchObject({
      access: 'read-only',
      name: 'ASO_API_TOKENS entry 2',
    });
    expect(tokens.identify('read-only-token-0123456789x')).toBeUndefined();
    expect(tokens.identify(READER.slice(0, -1))).toBeUndefined();
    expect(tokens.identify('')).toBeUndefined();
  });

  it('reads a token file with blank lines, comments and CRLF line ends, beside the variable', () => {
    const path = tokenFile(
      [
        '# tokens of the orchestrator API',
        '',
        `read-only:${READER}   # dashboards`,
        '   ',
        `read-write:${WRITER}\r`,
      ].join('\n'),
    );
    const tokens = loadApiTokens({
      ASO_API_TOKENS: 'read-write:from-the-environment-1',
      ASO_API_TOKENS_FILE: path,
    });

    expect(tokens.tokens.map((token) => token.name)).toEqual([
      'ASO_API_TOKENS entry 1',
      'ASO_API_TOKENS_FILE line 3',
      'ASO_API_TOKENS_FILE line 5',
    ]);
    expect(tokens.identify(WRITER)?.access).toBe('read-write');
    expect(tokens.count('read-only')).toBe(1);
  });

  it('refuses to start without any token', () => {
    expect(refusal({})).toContain('no API token is configured');
    expect(refusal({ ASO_API_TOKENS: ' , ' })).toContain('no API token is configured');
    expect(refusal({ ASO_API_TOKENS_FILE: tokenFile('# nothing yet\n\n') })).toContain(
      'no API token is configured',
    );
  });

  it.each([
    ['no access level', WRITER, 'ASO_API_TOKENS entry 2 is malformed'],
    ['an unknown access level', `admin:${WRITER}`, 'ASO_API_TOKENS entry 2 is malformed'],
    ['a short token', 'read-write:short-token-15c', 'shorter than 16 characters'],
    ['a token with spaces', 'read-write:has spaces in the token', 'characters a bearer token'],
    ['a token with a quote', 'read-only:quote"in-the-token-1234', 'characters a bearer token'],
    ['a repeated token', `read-only:${READER}`, 'repeats a token configured earlier'],
  ])('refuses %s, naming the entry but not the token', (_what, entry, expected) => {
    const message = refusal({ ASO_API_TOKENS: `read-only:${READER},${entry}` });

    expect(message).toContain(expected);
    expect(message).toContain('entry 2');
    const secret = entry.replace(/^[a-z-]+:/, '');
    expect(message).not.toContain(secret);
  });

  it('names the line of a malformed entry in the token file', () => {
    const path = tokenFile(`read-write:${WRITER}\n\nread-write ${READER}\n`);
    const message = refusal({ ASO_API_TOKENS_FILE: path });

    expect(message).toContain('ASO_API_TOKENS_FILE line 3 is malformed');
    expect(message).not.toContain(READER);
  });

  it('says when the token file cannot be read', () => {
    expect(refusal({ ASO_API_TOKENS_FILE: join(dir, 'missing') })).toContain(
      'cannot be read (ENOENT)',
    );
  });

  it('keys counters by a hash that does not contain the token', () => {
    const [token] = loadApiTokens({ ASO_API_TOKENS: `read-write:${WRITER}` }).tokens;

    expect(token?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(token?.id).not.toContain(WRITER);
  });
});
