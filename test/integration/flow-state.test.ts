import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { s256Challenge, verifyCodeChallenge } from '../../src/crypto/pkce';
import type { ApiError } from '../../src/errors/api-error';
import { issueFlowCode, parsePkceParams, redeemAuthCode, startFlow } from '../../src/domain/flow-state';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';

let now = new Date('2026-11-23T10:00:00Z');
const clock = { now: () => now };
const EXPIRY = 300_000;
const { db, deps } = useTestApp({ overrides: { clock } });

const verifier = () => randomBytes(32).toString('base64url');
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return (e as ApiError).code;
  }
  return 'ok';
};

async function issuedFlow(v: string, method: 's256' | 'plain' = 's256') {
  const started = await startFlow(db.db, deps, {
    userId: deps.random.uuid(),
    providerType: 'email',
    authenticationMethod: 'magiclink',
    pkce: { codeChallenge: method === 's256' ? s256Challenge(v) : v, codeChallengeMethod: method },
  });
  await issueFlowCode(db.db, deps, started.id);
  return started;
}

describe('PKCE primitives', () => {
  it('checks S256 against the RFC 7636 appendix B example', () => {
    const v = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    expect(s256Challenge(v)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(verifyCodeChallenge(v, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 's256')).toBe(true);
    expect(verifyCodeChallenge(v + 'x', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 's256')).toBe(false);
  });

  it.each([
    [null, null, undefined],
    ['a'.repeat(43), 'S256', { codeChallenge: 'a'.repeat(43), codeChallengeMethod: 's256' }],
    ['a'.repeat(43), 'plain', { codeChallenge: 'a'.repeat(43), codeChallengeMethod: 'plain' }],
  ])('parses challenge %s with method %s', (c, m, out) => {
    expect(parsePkceParams(c, m)).toEqual(out);
  });

  it.each([
    ['a'.repeat(43), null],
    [null, 's256'],
    ['a'.repeat(43), 'md5'],
    ['short', 's256'],
    ['a'.repeat(129), 's256'],
    ['a'.repeat(42) + '!', 's256'],
  ])('refuses challenge %s with method %s as validation_failed', (c, m) => {
    expect(() => parsePkceParams(c, m)).toThrowError(expect.objectContaining({ code: 'validation_failed', status: 400 }));
  });
});

describe(`flow_state (${dbKind})`, () => {
  it('redeems an issued code once with the right verifier, S256 and plain', async () => {
    for (const method of ['s256', 'plain'] as const) {
      const v = verifier();
      const { authCode } = await issuedFlow(v, method);
      const flow = await redeemAuthCode(db.db, deps, authCode, v, EXPIRY);
      expect(flow.authentication_method).toBe('magiclink');
      expect(await codeOf(redeemAuthCode(db.db, deps, authCode, v, EXPIRY))).toBe('flow_state_not_found');
    }
  });

  it('stores only a hash of the auth code', async () => {
    const { id, authCode } = await issuedFlow(verifier());
    const row = await db.db.selectFrom('flow_state').select('auth_code').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.auth_code).not.toContain(authCode);
  });

  it('refuses a wrong or malformed verifier, and a failed attempt burns the code', async () => {
    const v = verifier();
    const { authCode } = await issuedFlow(v);
    expect(await codeOf(redeemAuthCode(db.db, deps, authCode, 'short', EXPIRY))).toBe('bad_code_verifier');
    expect(await codeOf(redeemAuthCode(db.db, deps, authCode, verifier(), EXPIRY))).toBe('bad_code_verifier');
    expect(await codeOf(redeemAuthCode(db.db, deps, authCode, v, EXPIRY))).toBe('flow_state_not_found');
  });

  it('refuses a code that was never issued', async () => {
    const v = verifier();
    const { authCode } = await startFlow(db.db, deps, {
      userId: null,
      providerType: 'github',
      authenticationMethod: 'oauth',
      pkce: { codeChallenge: s256Challenge(v), codeChallengeMethod: 's256' },
    });
    expect(await codeOf(redeemAuthCode(db.db, deps, authCode, v, EXPIRY))).toBe('flow_state_not_found');
  });

  it('expires a code the configured time after it was issued', async () => {
    const v = verifier();
    const { authCode } = await issuedFlow(v);
    const start = now;
    now = new Date(start.getTime() + EXPIRY + 1000);
    try {
      expect(await codeOf(redeemAuthCode(db.db, deps, authCode, v, EXPIRY))).toBe('flow_state_expired');
    } finally {
      now = start;
    }
  });

  it('issues a code once: a replayed state is flow_state_already_used, an unknown one flow_state_not_found', async () => {
    const started = await startFlow(db.db, deps, { userId: null, providerType: 'github', authenticationMethod: 'oauth', pkce: undefined });
    const results = await Promise.all(Array.from({ length: 5 }, () => codeOf(issueFlowCode(db.db, deps, started.id, { userId: deps.random.uuid() }))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'flow_state_already_used')).toHaveLength(4);
    expect(await codeOf(issueFlowCode(db.db, deps, deps.random.uuid()))).toBe('flow_state_not_found');
  });

  it('lets exactly one of several concurrent redeemers win', async () => {
    const v = verifier();
    const { authCode } = await issuedFlow(v);
    const results = await Promise.all(Array.from({ length: 8 }, () => codeOf(redeemAuthCode(db.db, deps, authCode, v, EXPIRY))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
  });
});
