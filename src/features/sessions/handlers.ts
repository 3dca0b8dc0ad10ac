import { z } from 'zod';
import { endpoint } from '../../http/endpoint';
import { uuidParam } from '../../http/fields';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import type { SessionSummary } from '../../domain/user-sessions';
import { adminListSessions, adminRevokeSessions, listOwnSessions, revokeOwnSessions } from './flows';

/** Thin handlers for the sessions API (parse, one call, shape); the rules live in flows.ts. */

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A session as the API shows it. `oauth_client_id` names the OAuth client the session was issued to, if any. */
export const sessionJson = (s: SessionSummary, current?: boolean) => ({
  id: s.id,
  created_at: iso(s.created_at),
  updated_at: iso(s.updated_at),
  refreshed_at: iso(s.refreshed_at),
  not_after: iso(s.not_after),
  user_agent: s.user_agent,
  ip: s.ip,
  aal: s.aal,
  factor_id: s.factor_id,
  tag: s.tag,
  oauth_client_id: s.oauth_client_id,
  ...(current === undefined ? {} : { current }),
});

const SessionPath = z.object({ session_id: uuidParam('session_id') });
const UserPath = z.object({ user_id: uuidParam('user_id') });
const UserSessionPath = z.object({ user_id: uuidParam('user_id'), session_id: uuidParam('session_id') });

/** GET /user/sessions → {sessions: [Session & {current}]} */
export const listMySessions = endpoint({ auth: 'user' }, async ({ user }, deps) => {
  const rows = await listOwnSessions(deps, user);
  return { sessions: rows.map((r) => sessionJson(r.session, r.current)) };
});

/** DELETE /user/sessions/{session_id} → 204 */
export const revokeMySession = endpoint({ auth: 'user', params: SessionPath }, async ({ params, meta, user, res }, deps) => {
  await revokeOwnSessions(deps, meta, user, { only: params.session_id });
  res.status(204).end();
});

/** DELETE /user/sessions?scope=others → 204 (scope is required: nothing else ends several sessions here). */
export const revokeMyOtherSessions = endpoint({ auth: 'user' }, async ({ query, meta, user, res }, deps) => {
  if (query.scope !== 'others') throw badRequest(ErrorCodes.validationFailed, 'scope must be "others" (or DELETE /user/sessions/{id}, or POST /logout)');
  await revokeOwnSessions(deps, meta, user, { others: true });
  res.status(204).end();
});

/** GET /admin/users/{user_id}/sessions → {sessions: [Session]} */
export const adminListUserSessions = endpoint({ auth: 'admin', params: UserPath }, async ({ params }, deps) => {
  const rows = await adminListSessions(deps, params.user_id);
  return { sessions: rows.map((s) => sessionJson(s)) };
});

/** DELETE /admin/users/{user_id}/sessions → 204 (every session of the user) */
export const adminRevokeUserSessions = endpoint({ auth: 'admin', params: UserPath }, async ({ params, meta, admin, res }, deps) => {
  await adminRevokeSessions(deps, meta, admin, params.user_id);
  res.status(204).end();
});

/** DELETE /admin/users/{user_id}/sessions/{session_id} → 204 */
export const adminRevokeUserSession = endpoint({ auth: 'admin', params: UserSessionPath }, async ({ params, meta, admin, res }, deps) => {
  await adminRevokeSessions(deps, meta, admin, params.user_id, params.session_id);
  res.status(204).end();
});
