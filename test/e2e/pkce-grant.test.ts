import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { issueFlowCode, startFlow } from '../../src/domain/flow-state';
import { claimsOf, signUp } from '../helpers/flows';
import { useTestApp } from '../helpers/test-app';
import { dbKind } from '../helpers/test-db';
import { API_VERSION } from '../helpers/test-server';

const server = useTestApp({ listen: true });

const pkceClient = () => server.client('pkce');

/**
 * What an email or OAuth flow does on the server between the client's challenge and its `?code=` redirect:
 * a flow for the user with the client's challenge, whose code is then issued.
 */
async function completeFlowFor(userId: string, challenge: string, method: 's256' | 'plain', provider = { type: 'github', access: 'gho_x', refresh: 'ghr_y' }) {
  const { deps } = server;
  const flow = await startFlow(deps.db, deps, {
    userId: null,
    providerType: provider.type,
    authenticationMethod: 'oauth',
    pkce: { codeChallenge: challenge, codeChallengeMethod: method },
  });
  await issueFlowCode(deps.db, deps, flow.id, { userId, providerAccessToken: provider.access, providerRefreshToken: provider.refresh });
  return flow.authCode;
}

describe(`POST /token?grant_type=pkce (${dbKind})`, () => {
  it('lets auth-js exchangeCodeForSession redeem a code for the challenge it made', async () => {
    const { body } = await signUp(server.app);
    const auth = pkceClient();
    const { data } = await auth.signInWithOAuth({ provider: 'github', options: { redirectTo: 'http://localhost:3000/cb', skipBrowserRedirect: true } });
    const url = new URL(data.url!);
    expect(url.searchParams.get('code_challenge_method')).toBe('s256');
    const code = await completeFlowFor(body.user.id, url.searchParams.get('code_challenge')!, 's256');

    const exchanged = await auth.exchangeCodeForSession(code);
    expect(exchanged.error).toBeNull();
    expect(exchanged.data.user?.id).toBe(body.user.id);
    expect(exchanged.data.session?.provider_token).toBe('gho_x');
    expect(exchanged.data.session?.provider_refresh_token).toBe('ghr_y');
    const claims = claimsOf(exchanged.data.session!.access_token);
    expect((claims.amr as { method: string }[])[0]!.method).toBe('oauth');
    expect((await auth.getUser()).data.user?.id).toBe(body.user.id);

    const again = await pkceClient().exchangeCodeForSession(code);
    expect(again.error).not.toBeNull();
  });

  it.each([
    ['no body', undefined, 400, 'bad_json'],
    ['no auth_code', { code_verifier: 'v'.repeat(43) }, 400, 'validation_failed'],
    ['an empty code_verifier', { auth_code: 'x', code_verifier: '' }, 400, 'validation_failed'],
    ['a short code_verifier', { auth_code: 'x', code_verifier: 'short' }, 400, 'bad_code_verifier'],
    ['an unknown auth_code', { auth_code: 'not-a-code', code_verifier: 'v'.repeat(43) }, 404, 'flow_state_not_found'],
    ['a non-string auth_code', { auth_code: 42, code_verifier: 'v'.repeat(43) }, 400, 'validation_failed'],
  ])('answers %s with %i %s', async (_name, payload, status, code) => {
    const req = request(server.app).post('/token?grant_type=pkce').set(API_VERSION);
    const res = payload === undefined ? await req : await req.send(payload);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  });

  it('refuses the wrong verifier with bad_code_verifier, a plain challenge with its verifier works', async () => {
    const { body } = await signUp(server.app);
    const verifier = 'p'.repeat(50);
    const code = await completeFlowFor(body.user.id, verifier, 'plain');
    const wrong = await request(server.app).post('/token?grant_type=pkce').set(API_VERSION).send({ auth_code: code, code_verifier: 'q'.repeat(50) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('bad_code_verifier');

    const code2 = await completeFlowFor(body.user.id, verifier, 'plain');
    const ok = await request(server.app).post('/token?grant_type=pkce').set(API_VERSION).send({ auth_code: code2, code_verifier: verifier });
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(body.user.id);
  });
});
