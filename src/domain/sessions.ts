import { createHash } from 'node:crypto';
import type { Executor } from '../db/database';
import { listAmrClaims, upsertAmrClaim } from '../db/repositories/amr-claims';
import { findActiveRefreshToken, revokeSessionRefreshTokens, rotateRefreshToken } from '../db/repositories/refresh-tokens';
import { insertAuditEntries } from '../db/repositories/audit-log';
import type { EndingSession } from '../db/repositories/oauth-logout';
import { deleteAal1Sessions, endOlderSessions, insertSessionReturningUser, lockUserSession, setSessionAal } from '../db/repositories/sessions';
import { effectiveTag } from './session-policy';
import { findUserWithRelations, type UserWithRelations } from '../db/repositories/users';
import type { AuditEntry } from '../db/repositories/audit-log';
import { forbidden } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import type { AalLevel, UserRow } from '../db/schema';
import type { Deps } from '../deps';
import type { RequestMeta } from './request-meta';
import { customizeAccessToken } from './hooks';
import { oauthIssuer } from './oauth-server';
import type { JwtAlgorithm } from '../config/jwt-keys';

/**
 * Sessions and the tokens they carry. Every grant ends the same way: `issue` starts the session inside the
 * flow's transaction, and after commit `mintTokens` — the one place claims are built and signed — turns it
 * into the token response. The refresh grant mints through the same function.
 */

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

/** The user fields the access token carries. */
export type TokenUser = Pick<UserRow, 'id' | 'aud' | 'email' | 'phone' | 'raw_app_meta_data' | 'raw_user_meta_data' | 'role' | 'is_anonymous'>;

/** The session fields the access token carries. */
export interface TokenSession {
  id: string;
  aal: AalLevel | null;
  /** The OAuth client the session was issued to (OAuth server); the token then names it in `client_id`. */
  oauthClientId?: string | null;
  /**
   * The client_id the token names when it is not the row id: a Client ID Metadata Document client's URL (issue 15,
   * MCP), so resource servers and introspection see the id the client knows itself by.
   */
  oauthClientPublicId?: string | null;
  /** OAuth server sessions: the granted scopes (space-separated); the token then carries `scope`. */
  scopes?: string | null;
  /** OAuth server sessions: the RFC 8707 resource the tokens are for; the token's `aud` then names it. */
  resource?: string | null;
  /**
   * Issue 15, item 4: how the resource's tokens are made (lifetime, alg), looked up by the grant. With `resource`
   * set, the access token is a resource server's (RFC 9068), never a first-party session JWT.
   */
  resourcePolicy?: ResourcePolicy | undefined;
}

/** A resource server's token policy (domain/oauth-resources' ResolvedResource fits). */
export interface ResourcePolicy {
  /** Seconds; null = the client's lifetime, else the server's JWT expiry. */
  accessTokenTtl: number | null;
  /** undefined = the signer's own key. */
  signingAlg: JwtAlgorithm | undefined;
}

/** Everything mintTokens signs. */
export interface MintInput {
  user: TokenUser;
  session: TokenSession;
  /** Newest first. */
  amr: AmrEntry[];
  /** The opaque refresh token handed out with the access token. */
  refreshToken: string;
  /**
   * The custom access token hook's `authentication_method` (GoTrue's: password, otp, token_refresh, …); defaults to
   * the newest amr method, which is the grant's for every grant but refresh.
   */
  authenticationMethod?: string;
  /** Access-token lifetime in seconds when not the server's (an OAuth client's own, issue 12). */
  expiresIn?: number | null;
}

/** A session `issue` started: what mintTokens needs, with the user as the flow's transaction left it. */
export interface IssuedSession extends MintInput {
  user: UserWithRelations;
  session: TokenSession & { aal: AalLevel };
}

export interface IssueInput {
  user: Pick<UserRow, 'id'>;
  /** The authentication method the `amr` claim records: password, otp, oauth, anonymous, … */
  method: string;
  /** aal1 unless the flow proved more. */
  aal?: AalLevel;
  /** Earlier methods the new session carries over (newest first); recorded with `method`, which comes first. */
  amr?: AmrEntry[];
  meta: RequestMeta;
  /**
   * OAuth server sessions (issue 12): the client the session is issued to, and the client_id its tokens name when
   * that is not the row id (TokenSession.oauthClientPublicId).
   */
  oauthClient?: { id: string; publicId?: string | null };
  /** OAuth server sessions (issue 12): the session's id when the flow needs it first, scopes, resource, lifetime. */
  sessionId?: string;
  scopes?: string | null;
  resource?: string | null;
  /** The resource's token policy as the flow looked it up (TokenSession.resourcePolicy); not stored. */
  resourcePolicy?: ResourcePolicy | undefined;
  /** Seconds the session may refresh for (sessions.not_after); null/undefined = no bound. */
  lifetimeSeconds?: number | null;
  /** The flow's audit rows, written by the session's own statement (one round trip fewer than a separate insert). */
  audit?: AuditEntry[];
}

/** A session started or raised without tokens (held by reference): the user as the transaction left it, session, amr. */
export type TokenlessSession = Omit<IssuedSession, 'refreshToken' | 'authenticationMethod' | 'expiresIn'>;

/** What a first-party sign-in's tokenless session starts with (no OAuth client: those sessions are the code grant's). */
export type TokenlessStart = Pick<IssueInput, 'user' | 'method' | 'aal' | 'amr' | 'meta' | 'audit'>;

type SessionDeps = Pick<Deps, 'clock' | 'random'> & { config?: Pick<Deps['config'], 'sessions'> };

/**
 * Starts a session inside the caller's transaction, in one statement: the session row at the given AAL, its
 * first refresh token, its AMR claims and the flow's audit rows. The statement also reads the user back with
 * identities and factors, after the flow's writes, so the response needs no reload after commit. Call it after the
 * flow's last write to the user; `mintTokens` after commit.
 */
export async function issue(trx: Executor, deps: SessionDeps & Pick<Deps, 'refreshTokens'>, input: IssueInput): Promise<IssuedSession> {
  const first = deps.refreshTokens.issue();
  return { ...(await startSession(trx, deps, input, first.selector)), refreshToken: first.token };
}

/**
 * `issue` for a session held by reference, never by tokens: the hosted OAuth pages keep only its id in a signed
 * cookie, so no refresh_tokens row is written (nothing can refresh it; the code grant starts the client's own
 * session when the user consents).
 */
export async function startTokenlessSession(trx: Executor, deps: SessionDeps, input: TokenlessStart): Promise<TokenlessSession> {
  return startSession(trx, deps, input, null);
}

/** The one statement of `issue` and `startTokenlessSession`; `firstSelector` null = no refresh token. */
async function startSession(trx: Executor, deps: SessionDeps, input: IssueInput, firstSelector: string | null): Promise<TokenlessSession> {
  const now = deps.clock.now();
  const sessionId = input.sessionId ?? deps.random.uuid();
  const aal = input.aal ?? 'aal1';
  const amr: AmrEntry[] = [
    { method: input.method, timestamp: Math.floor(now.getTime() / 1000) },
    ...(input.amr ?? []).filter((e) => e.method !== input.method),
  ];
  const user = await insertSessionReturningUser(
    trx,
    { id: sessionId, userId: input.user.id, aal, now, userAgent: input.meta.userAgent, ip: input.meta.ip || null, oauthClientId: input.oauthClient?.id ?? null, scopes: input.scopes ?? null, oauthResource: input.resource ?? null, notAfter: input.lifetimeSeconds ? new Date(now.getTime() + input.lifetimeSeconds * 1000) : null },
    firstSelector === null ? null : { selector: firstSelector, userId: input.user.id, sessionId, parent: null, now },
    amr.map((e) => ({ id: deps.random.uuid(), sessionId, method: e.method, now: new Date(e.timestamp * 1000) })),
    input.audit,
  );
  // The foreign key from sessions to users fails the statement first; this is for the type.
  if (!user) throw new Error(`startSession: user ${input.user.id} vanished inside its own transaction`);
  // GOTRUE_SESSIONS_SINGLE_PER_USER: the new first-party sign-in ends the user's older sessions of its tag, in this transaction.
  const policy = deps.config?.sessions;
  if (policy?.singlePerUser && !input.oauthClient) {
    await endOlderSessions(trx, input.user.id, sessionId, effectiveTag(null, policy.tags), policy.tags, now);
  }
  return {
    user,
    session: {
      id: sessionId,
      aal,
      oauthClientId: input.oauthClient?.id ?? null,
      ...(input.oauthClient?.publicId ? { oauthClientPublicId: input.oauthClient.publicId } : {}),
      ...(input.scopes ? { scopes: input.scopes } : {}),
      ...(input.resource ? { resource: input.resource } : {}),
      ...(input.resourcePolicy ? { resourcePolicy: input.resourcePolicy } : {}),
    },
    amr,
  };
}

/**
 * The one place access tokens are made: claims built (accessTokenFor), handed to the custom access token hook when
 * it is enabled (GoTrue signs what the hook gives back once it passes GoTrue's claims schema; a failing hook fails
 * the grant with the hook's error), then signed. Called after the grant's transaction, so the hook holds none.
 */
export async function mintTokens(deps: Pick<Deps, 'clock' | 'signer' | 'config' | 'hooks' | 'random'>, input: MintInput): Promise<IssuedTokens> {
  const { session } = input;
  if (session.resource) {
    const t = await resourceAccessToken(deps, { sub: input.user.id, clientId: session.oauthClientPublicId ?? session.oauthClientId, scope: session.scopes ?? '', sessionId: session.id, resource: session.resource, policy: session.resourcePolicy, clientTtl: input.expiresIn });
    return { accessToken: t.accessToken, refreshToken: input.refreshToken, expiresIn: t.expiresIn, expiresAt: t.exp };
  }
  const built = accessTokenFor(deps, input);
  const { exp } = built;
  let claims: Record<string, unknown> = built.claims;
  if (deps.hooks.enabled('custom_access_token')) {
    claims = await customizeAccessToken(deps, {
      userId: input.user.id,
      claims,
      authenticationMethod: input.authenticationMethod ?? input.amr[0]?.method ?? '',
    });
  }
  const accessToken = await deps.signer.sign(claims);
  return { accessToken, refreshToken: input.refreshToken, expiresIn: input.expiresIn ?? deps.config.jwt.exp, expiresAt: exp };
}

/**
 * Issue 15, item 4: an access token for a resource server, RFC 9068's profile — `typ: at+jwt`, `iss`, `sub`, `aud`
 * (the resource), `exp` (the resource's lifetime, else the client's, else the server's), `iat`, `jti`,
 * `client_id`, `scope` (the granted scopes only) and, for a user's session, `session_id` (so revocation and
 * introspection follow the session). No `role`, email, metadata or `aal`: nothing that opens the Supabase data API
 * or this server's first-party endpoints (authenticateUser refuses `at+jwt`). The custom access token hook is not
 * run: it shapes first-party tokens, and could give a `role` back. Signed with the resource's alg. The one place
 * these claims are built: a user's grants (mintTokens) and client_credentials (mintClientToken) both end here.
 */
async function resourceAccessToken(
  deps: Pick<Deps, 'clock' | 'signer' | 'config' | 'random'>,
  t: { sub: string; clientId: string | null | undefined; scope: string; sessionId?: string; resource: string; policy: ResourcePolicy | undefined; clientTtl: number | null | undefined },
): Promise<{ accessToken: string; expiresIn: number; exp: number }> {
  const expiresIn = t.policy?.accessTokenTtl ?? t.clientTtl ?? deps.config.jwt.exp;
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  const claims = {
    iss: oauthIssuer(deps.config),
    sub: t.sub,
    aud: t.resource,
    exp: iat + expiresIn,
    iat,
    jti: deps.random.uuid(),
    ...(t.clientId ? { client_id: t.clientId } : {}),
    scope: t.scope,
    ...(t.sessionId ? { session_id: t.sessionId } : {}),
  };
  return { accessToken: await deps.signer.sign(claims, { alg: t.policy?.signingAlg, typ: 'at+jwt' }), expiresIn, exp: iat + expiresIn };
}

/** The access token's claims, GoTrue's, in GoTrue's order (contract §2). */
function accessTokenFor(deps: Pick<Deps, 'clock' | 'config'>, { user, session, amr, expiresIn }: MintInput) {
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  const exp = iat + (expiresIn ?? deps.config.jwt.exp);
  const claims = {
    ...(deps.config.jwt.issuer ? { iss: deps.config.jwt.issuer } : {}),
    sub: user.id,
    aud: session.resource || (user.aud ?? deps.config.jwt.aud),
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
    ...(session.oauthClientId ? { client_id: session.oauthClientPublicId ?? session.oauthClientId } : {}),
    ...(session.scopes ? { scope: session.scopes } : {}),
  };
  return { claims, exp };
}

/**
 * OAuth server, client_credentials (issue 12): an access token for a client acting for itself — `sub` and
 * `client_id` are the client, no user, no session, no refresh token. Same signer and lifetime rules as mintTokens.
 */
export async function mintClientToken(
  deps: Pick<Deps, 'clock' | 'signer' | 'config' | 'random'>,
  input: { clientId: string; scope: string; resource?: { uri: string; policy: ResourcePolicy } | null; expiresIn?: number | null },
): Promise<{ accessToken: string; expiresIn: number }> {
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  const r = input.resource;
  if (r) {
    const t = await resourceAccessToken(deps, { sub: input.clientId, clientId: input.clientId, scope: input.scope, resource: r.uri, policy: r.policy, clientTtl: input.expiresIn });
    return { accessToken: t.accessToken, expiresIn: t.expiresIn };
  }
  const expiresIn = input.expiresIn ?? deps.config.jwt.exp;
  const claims = {
    ...(deps.config.jwt.issuer ? { iss: deps.config.jwt.issuer } : {}),
    sub: input.clientId,
    aud: deps.config.jwt.aud,
    exp: iat + expiresIn,
    iat,
    client_id: input.clientId,
    ...(input.scope ? { scope: input.scope } : {}),
  };
  return { accessToken: await deps.signer.sign(claims), expiresIn };
}

/** What an OpenID Connect ID token states (OIDC Core §2), claims of the granted scopes included. */
export interface IdTokenInput {
  issuer: string;
  clientId: string;
  user: Pick<UserRow, 'id' | 'email' | 'email_confirmed_at' | 'phone' | 'phone_confirmed_at' | 'raw_user_meta_data' | 'updated_at'>;
  scopes: string[];
  authTime: Date;
  nonce: string | null;
  /** How the user had signed in when approving (AMR methods). */
  amr: string[];
  aal: string | null;
  /** The access token issued with it (at_hash). */
  accessToken: string;
  /** Issue 15: the session the tokens belong to (`sid`, OIDC Front/Back-Channel Logout), named by logout tokens. */
  sessionId?: string | undefined;
}

/**
 * OAuth server (issue 12): the ID token, signed by the asymmetric signing key of GOTRUE_JWT_KEYS (the config
 * refuses to enable the OAuth server without one). Lives for the access token's lifetime.
 */
export async function mintIdToken(deps: Pick<Deps, 'clock' | 'signer' | 'config'>, input: IdTokenInput): Promise<string> {
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  const claims = {
    iss: input.issuer,
    sub: input.user.id,
    aud: input.clientId,
    exp: iat + deps.config.jwt.exp,
    iat,
    auth_time: Math.floor(input.authTime.getTime() / 1000),
    ...(input.nonce ? { nonce: input.nonce } : {}),
    amr: input.amr,
    acr: input.aal ?? 'aal1',
    azp: input.clientId,
    ...(input.sessionId ? { sid: input.sessionId } : {}),
    at_hash: atHash(input.accessToken, deps.signer.algorithms[0] ?? 'RS256'),
    ...scopeClaims(input.user, input.scopes),
  };
  return deps.signer.sign(claims);
}

/** OIDC Core §3.1.3.6: the left half of the hash of the access token, base64url (SHA-512 for EdDSA, else SHA-256). */
function atHash(accessToken: string, alg: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** The standard claims of the granted scopes only (OIDC Core §5.4), as userinfo and the ID token give them. */
export function scopeClaims(user: IdTokenInput['user'], scopes: readonly string[]): Record<string, unknown> {
  const meta = (user.raw_user_meta_data ?? {}) as Record<string, unknown>;
  const text = (k: string) => (typeof meta[k] === 'string' && meta[k] !== '' ? (meta[k] as string) : undefined);
  const out: Record<string, unknown> = {};
  if (scopes.includes('email') && user.email) {
    out.email = user.email;
    out.email_verified = user.email_confirmed_at !== null;
  }
  if (scopes.includes('phone') && user.phone) {
    out.phone_number = `+${user.phone.replace(/^\+/, '')}`;
    out.phone_number_verified = user.phone_confirmed_at !== null;
  }
  if (scopes.includes('profile')) {
    const name = text('name') ?? text('full_name');
    const picture = text('picture') ?? text('avatar_url');
    const username = text('preferred_username') ?? text('user_name');
    if (name) out.name = name;
    if (picture) out.picture = picture;
    if (username) out.preferred_username = username;
    if (user.updated_at) out.updated_at = Math.floor(new Date(user.updated_at).getTime() / 1000);
  }
  return out;
}

export interface UpgradeInput {
  userId: string;
  sessionId: string;
  /** The AMR method the second factor proved: totp, mfa/phone, … */
  method: string;
  /** The factor that raised the session (sessions.factor_id), so unenrolling it lowers the session again. */
  factorId: string | null;
  /** Audit rows of the verification, written by the same statement as the refresh-token swap. */
  audit: [AuditEntry, ...AuditEntry[]];
}

/**
 * GoTrue's updateMFASessionAndClaims: raises the EXISTING session to aal2 inside the caller's transaction — the
 * method joins the session's AMR claims, the session row records aal2 and the factor, and the session's live refresh
 * token is swapped for a new one (the aal1 token it replaces is revoked, so only the client that verified holds a
 * token that refreshes at aal2). The user's other aal1 sessions end (GoTrue's InvalidateSessionsWithAALLessThan).
 * Returns what mintTokens needs, and in `ended` the back-channel sessions the caller notifies; both after commit. A
 * session that is gone is 403 session_not_found.
 */
export async function upgradeAal(trx: Executor, deps: Pick<Deps, 'clock' | 'random' | 'refreshTokens'>, input: UpgradeInput): Promise<IssuedSession & { ended: EndingSession[] }> {
  const next = deps.refreshTokens.issue();
  const raised = await raiseSession(trx, deps, input, async (sessionId, now) => {
    const active = await findActiveRefreshToken(trx, sessionId);
    await rotateRefreshToken(trx, {
      revokeId: active?.id ?? null,
      // No parent: the aal1 token must not lead to the aal2 one (the refresh grant hands a revoked token's live child
      // back). Presented again it is reuse, as GoTrue's counter +2 makes it for its newer refresh tokens.
      next: { selector: next.selector, userId: input.userId, sessionId, parent: null, now },
      audit: input.audit,
    });
  });
  return { ...raised, refreshToken: next.token };
}

/**
 * `upgradeAal` without the refresh-token swap, for a session held by reference (the hosted pages): any refresh
 * token the session holds is revoked instead (a startTokenlessSession session has none), so no token minted before
 * the raise refreshes at aal2, and the verification's audit rows are written on their own.
 */
export async function raiseTokenlessSession(trx: Executor, deps: Pick<Deps, 'clock' | 'random'>, input: UpgradeInput): Promise<TokenlessSession & { ended: EndingSession[] }> {
  return raiseSession(trx, deps, input, async (sessionId, now) => {
    await revokeSessionRefreshTokens(trx, sessionId, now);
    await insertAuditEntries(trx, input.audit);
  });
}

/** The raise both share; `tokens` deals with the session's refresh tokens and writes the audit rows. */
async function raiseSession(
  trx: Executor,
  deps: Pick<Deps, 'clock' | 'random'>,
  input: UpgradeInput,
  tokens: (sessionId: string, now: Date) => Promise<void>,
): Promise<TokenlessSession & { ended: EndingSession[] }> {
  const now = deps.clock.now();
  const session = await lockUserSession(trx, input.userId, input.sessionId);
  if (!session) throw forbidden(ErrorCodes.sessionNotFound, 'Session from session_id claim in JWT does not exist');
  await upsertAmrClaim(trx, { id: deps.random.uuid(), sessionId: session.id, method: input.method, now });
  await setSessionAal(trx, session.id, 'aal2', input.factorId, now);
  await tokens(session.id, now);
  // OAuth clients with a back-channel logout URI hear of the aal1 sessions that end (after commit): the delete names them.
  const ended = await deleteAal1Sessions(trx, input.userId);
  const amr = amrFromRows(await listAmrClaims(trx, session.id));
  const found = await findUserWithRelations(trx, input.userId);
  if (!found) throw new Error(`raiseSession: user ${input.userId} vanished inside its own transaction`);
  const { session_exists: _ignored, ...user } = found;
  return { user, session: { id: session.id, aal: 'aal2', oauthClientId: session.oauth_client_id }, amr, ended };
}

/** The AAL a session row records (aal1 when unset or gone). */
export async function sessionAal(ex: Executor, userId: string, sessionId: string | undefined): Promise<AalLevel> {
  if (sessionId === undefined) return 'aal1';
  const s = await lockUserSession(ex, userId, sessionId);
  return s?.aal ?? 'aal1';
}

/** AMR rows (newest first) as claim entries. */
export function amrFromRows(rows: { authentication_method: string; updated_at: string | Date }[]): AmrEntry[] {
  return rows.map((r) => ({
    method: r.authentication_method,
    timestamp: Math.floor(new Date(r.updated_at).getTime() / 1000),
  }));
}

/** The refresh-token rows the refresh grant reads, locks and rotates (house rule 5: a reused token revokes its family). */
export { findActiveRefreshToken, lockRefreshContext, revokeSessionRefreshTokens, rotateRefreshToken } from '../db/repositories/refresh-tokens';
