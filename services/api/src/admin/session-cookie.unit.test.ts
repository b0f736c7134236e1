import { describe, expect, it } from 'vitest';

import { loadApiTokens } from '../api-tokens.ts';
import { ADMIN_SESSION_SECONDS, issueAdminSession, verifyAdminSession } from './session-cookie.ts';

const writerToken = 'w'.repeat(24);
const readerToken = 'r'.repeat(24);
const tokens = loadApiTokens({
  ASO_API_TOKENS: `read-write:${writerToken},read-only:${readerToken}`,
});
const [writer, reader] = tokens.tokens;
const now = new Date('2026-01-01T12:00:00Z');

describe('admin session cookies', () => {
  it('stand for the token that opened them, and never contain it', () => {
    if (!writer || !reader) throw new Error('two tokens expected');

    const session = issueAdminSession(reader, now);

    expect(verifyAdminSession(tokens, session.value, now)).toBe(reader);
    expect(session.value).not.toContain(readerToken);
    expect(session.value).not.toContain(reader.id);
    expect(session.expiresAt.getTime() - now.getTime()).toBe(ADMIN_SESSION_SECONDS * 1000);
  });

  it('expire', () => {
    if (!writer) throw new Error('a token expected');
    const session = issueAdminSession(writer, now);

    expect(verifyAdminSession(tokens, session.value, session.expiresAt)).toBeUndefined();
  });

  it('are refused when forged, tampered with or signed by a removed token', () => {
    if (!writer) throw new Error('a token expected');
    const session = issueAdminSession(writer, now);
    const [expiry = '', signature = ''] = session.value.split('.');
    const later = String(Number(expiry) + 3600);
    const others = loadApiTokens({ ASO_API_TOKENS: `read-write:${'x'.repeat(24)}` });

    expect(verifyAdminSession(tokens, `${later}.${signature}`, now)).toBeUndefined();
    expect(verifyAdminSession(tokens, `${expiry}.${'A'.repeat(43)}`, now)).toBeUndefined();
    expect(verifyAdminSession(tokens, 'garbage', now)).toBeUndefined();
    expect(verifyAdminSession(others, session.value, now)).toBeUndefined();
  });
});
