import type { Executor } from '../db/database';
import { upsertAmrClaim } from '../db/repositories/amr-claims';
import { insertRefreshToken } from '../db/repositories/refresh-tokens';
import { insertSession } from '../db/repositories/sessions';
import type { AalLevel, UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { RequestMeta } from '../domain/request-meta';

/** One authentication method used in a session, as the `amr` claim lists it. */
export interface AmrEntry {
  method: string;
  timestamp: number;
}

/** What a token response is made of (the handler shapes the JSON). */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  expiresAt: number;
}

/**
 * Starts a session inside the caller's transaction: the session row, its first refresh token and the AMR claim
 * for the method used. Returns what accessTokenFor needs.
 */
export async function startSession(
  trx: Executor,
  deps: Pick<Deps, 'clock' | 'random' | 'refreshTokens'>,
  meta: RequestMeta,
  user: Pick<UserRow, 'id'>,
  method: string,
): Promise<{ sessionId: string; aal: AalLevel; refreshToken: string; amr: AmrEntry[] }> {
  const now = deps.clock.now();
  const sessionId = deps.random.uuid();
  await insertSession(trx, { id: sessionId, userId: user.id, aal: 'aal1', now, userAgent: meta.userAgent, ip: meta.ip || null });
  const { token, selector } = deps.refreshTokens.issue();
  await insertRefreshToken(trx, { selector, userId: user.id, sessionId, parent: null, now });
  await upsertAmrClaim(trx, { id: deps.random.uuid(), sessionId, method, now });
  return { sessionId, aal: 'aal1', refreshToken: token, amr: [{ method, timestamp: Math.floor(now.getTime() / 1000) }] };
}

/** Signs the access token with GoTrue's claims, in GoTrue's order (contract §2). */
export async function accessTokenFor(
  deps: Pick<Deps, 'clock' | 'signer' | 'config'>,
  user: Pick<UserRow, 'id' | 'aud' | 'email' | 'phone' | 'raw_app_meta_data' | 'raw_user_meta_data' | 'role' | 'is_anonymous'>,
  session: { id: string; aal: AalLevel | null },
  amr: AmrEntry[],
  refreshToken: string,
): Promise<IssuedTokens> {
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  const exp = iat + deps.config.jwt.exp;
  const claims = {
    ...(deps.config.jwt.issuer ? { iss: deps.config.jwt.issuer } : {}),
    sub: user.id,
    aud: user.aud ?? deps.config.jwt.aud,
    exp,
    iat,
    email: user.email ?? '',
    phone: user.phone ?? '',
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? '',
    aal: session.aal ?? 'aal1',
    amr,
    session_id: session.id,
    is_anonymous: user.is_anonymous,
  };
  return { accessToken: await deps.signer.sign(claims), refreshToken, expiresIn: deps.config.jwt.exp, expiresAt: exp };
}

/** AMR rows (newest first) as claim entries. */
export function amrFromRows(rows: { authentication_method: string; updated_at: string | Date }[]): AmrEntry[] {
  return rows.map((r) => ({
    method: r.authentication_method,
    timestamp: Math.floor(new Date(r.updated_at).getTime() / 1000),
  }));
}
