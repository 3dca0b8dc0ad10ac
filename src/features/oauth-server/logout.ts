import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { Deps } from '../../deps';
import { auditEntry, insertAuditEntries } from '../../domain/audit';
import { endNamedSession } from '../../domain/backchannel-logout';
import { isUuid } from '../../domain/identifiers';
import { findClient, splitList } from '../../domain/oauth-clients';
import { oauthError, oauthIssuer } from '../../domain/oauth-server';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { oauthBody, oauthString } from './params';

/** OpenID Connect RP-Initiated Logout 1.0 (issue 15, item 6): GET|POST /oauth/logout. */

const badHint = (message: string) => oauthError(400, 'invalid_request', message, ErrorCodes.oauthInvalidIdTokenHint);

/**
 * The ID token a logout names: signed by one of our asymmetric keys (the JWKS), with our issuer, a client as `aud`,
 * a `sub` and a `sid`. An expired ID token is still a valid hint (RP-Initiated Logout §2: the OP verifies it was the
 * issuer), so the time checks are made against the token's own `iat`.
 */
async function verifyHint(deps: Pick<Deps, 'signer' | 'config'>, token: string): Promise<{ sub: string; aud: string; sid: string | undefined }> {
  let iat: number | undefined;
  try {
    iat = decodeJwt(token).iat;
  } catch {
    throw badHint('id_token_hint is not a JWT');
  }
  const algorithms = deps.signer.algorithms.filter((a) => !a.startsWith('HS'));
  let payload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(deps.signer.jwks() as Parameters<typeof createLocalJWKSet>[0]), {
      issuer: oauthIssuer(deps.config),
      algorithms,
      currentDate: typeof iat === 'number' ? new Date(iat * 1000) : undefined,
    }));
  } catch {
    throw badHint('id_token_hint was not issued by this server');
  }
  const aud = Array.isArray(payload.aud) ? (payload.aud.length === 1 ? payload.aud[0] : undefined) : payload.aud;
  if (typeof payload.sub !== 'string' || typeof aud !== 'string') throw badHint('id_token_hint is not an ID token of this server');
  const sid = typeof payload['sid'] === 'string' && isUuid(payload['sid']) ? payload['sid'] : undefined;
  return { sub: payload.sub, aud, sid };
}

/**
 * GET|POST /oauth/logout {id_token_hint, post_logout_redirect_uri?, state?, client_id?}: the session the ID token
 * names (`sid`, issued to its `aud`) ends, and its client's back-channel logout (and any other's for that session)
 * is started after commit. Then the browser goes to `post_logout_redirect_uri` with `state`, only when that URI is
 * registered for the client; otherwise 200 `{}`. A missing, forged or foreign id_token_hint, a client_id that is
 * not the token's audience, or an unregistered post_logout_redirect_uri is a 400 JSON error and no redirect.
 */
export const oauthLogout = endpoint({ auth: 'none' }, async ({ req, res, query, body: raw, meta }, deps) => {
  const params = req.method === 'POST' ? oauthBody(raw) : query;
  const hint = oauthString(params, 'id_token_hint', 16_384);
  const redirectUri = oauthString(params, 'post_logout_redirect_uri', 2048);
  const state = oauthString(params, 'state', 4096);
  const clientId = oauthString(params, 'client_id', 2048);
  if (!hint) throw oauthError(400, 'invalid_request', 'id_token_hint is required');
  const id = await verifyHint(deps, hint);
  if (clientId !== undefined && clientId !== id.aud) throw oauthError(400, 'invalid_request', 'client_id is not the audience of id_token_hint');
  const client = await findClient(deps, id.aud);
  if (!client) throw badHint('id_token_hint names an unknown client');
  if (redirectUri !== undefined && !splitList(client.post_logout_redirect_uris).includes(redirectUri)) {
    throw oauthError(400, 'invalid_request', 'post_logout_redirect_uri is not registered for this client');
  }
  const sid = id.sid;
  if (sid && isUuid(id.sub)) {
    const notify = await deps.db.transaction().execute(async (trx) => {
      const out = await endNamedSession(trx, { sessionId: sid, userId: id.sub, clientId: client.id });
      if (out.ended) {
        const actor = { id: id.sub, email: null, phone: null, raw_user_meta_data: null };
        await insertAuditEntries(trx, [auditEntry(deps, meta, actor, 'logout', { scope: 'oauth_rp_initiated', client_id: client.id })]);
      }
      return out.notify;
    });
    deps.backchannelLogout.notify(notify);
  }
  res.setHeader('Cache-Control', 'no-store');
  if (redirectUri === undefined) return {};
  const to = new URL(redirectUri);
  if (state) to.searchParams.set('state', state);
  res.redirect(302, to.toString());
  return undefined;
});
