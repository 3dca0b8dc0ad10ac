import { z } from 'zod';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { endpoint } from '../../http/endpoint';
import { email, metadata, newPassword, optBool, optString, phone, queryString, uuidParam } from '../../http/fields';
import { parseBody } from '../../http/parse';
import { adminCreateUser } from '../../services/admin/create-user';
import { adminDeleteUser } from '../../services/admin/delete-user';
import { adminUpdateUser, type AdminUpdateUserInput } from '../../services/admin/update-user';
import { adminGetUser, adminListUsers, adminListUsersAfter } from '../../services/admin/users';
import { userJson } from '../shapes';
import { encodeCursor, KeysetQuery, PageQuery, parseKeysetParams, parsePagination, setKeysetHeaders, setPaginationHeaders } from './pagination';

/** GoTrue's `sort=created_at [asc|desc]` (direction case-insensitive, desc by default); only created_at sorts. */
function parseSort(text: string): 'asc' | 'desc' {
  if (text === '') return 'desc';
  const [field, dir, ...rest] = text.split(' ');
  if (field !== 'created_at' || rest.length > 0) throw badRequest(ErrorCodes.validationFailed, `Bad Sort Parameters: bad field for sort '${field ?? ''}'`);
  if (dir === undefined) return 'desc';
  const d = dir.toLowerCase();
  if (d !== 'asc' && d !== 'desc') throw badRequest(ErrorCodes.validationFailed, `Bad Sort Parameters: bad direction for sort '${dir}', only 'asc' and 'desc' allowed`);
  return d;
}

const ListQuery = z.object({ ...PageQuery, ...KeysetQuery, sort: queryString(), filter: queryString() });

/**
 * GET /admin/users?page&per_page&filter&sort → {users, aud} with X-Total-Count and Link. With
 * GOTRUE_EXPERIMENTAL_CURSOR_PAGINATION_ENABLED and neither page nor per_page given (auth-js sends both empty when
 * unset), GoTrue's cursor mode: ?limit&cursor → {users, aud, pagination: {next_cursor?, has_more}}, a
 * `Link: rel="next"` while more follow, and no count.
 */
export const listUsers = endpoint({ auth: 'admin', query: ListQuery }, async ({ query, meta, url, res }, deps) => {
  const direction = parseSort(query.sort);
  const { aud } = meta;
  const filter = query.filter === '' ? undefined : query.filter;
  if (deps.config.experimental.cursorPaginationEnabled && query.page === '' && query.per_page === '') {
    const { limit, after } = parseKeysetParams(query);
    const { users, next } = await adminListUsersAfter(deps, { aud, limit, after, direction, filter });
    const nextCursor = next && encodeCursor(next);
    setKeysetHeaders(url, res, nextCursor);
    return { users: users.map(userJson), aud, pagination: { ...(nextCursor && { next_cursor: nextCursor }), has_more: nextCursor !== undefined } };
  }
  const page = parsePagination(query);
  const { users, total } = await adminListUsers(deps, { aud, ...page, direction, filter });
  setPaginationHeaders(url, res, page, total);
  return { users: users.map(userJson), aud };
});

const UserFields = {
  role: optString(),
  email: email(),
  phone: phone(),
  password: newPassword(),
  password_hash: optString(),
  email_confirm: optBool(),
  phone_confirm: optBool(),
  user_metadata: metadata(),
  app_metadata: metadata(),
  ban_duration: optString(),
};
const CreateBody = z.object({ ...UserFields, id: optString(), aud: optString() });
const UpdateBody = z.object(UserFields);
const UserPath = z.object({ user_id: uuidParam('user_id') });

/** The fields create and update share, from their JSON names to the services'. */
function userFieldsOf(b: z.output<typeof UpdateBody>): AdminUpdateUserInput {
  return {
    role: b.role,
    email: b.email,
    phone: b.phone,
    password: b.password,
    passwordHash: b.password_hash,
    emailConfirm: b.email_confirm,
    phoneConfirm: b.phone_confirm,
    userMetadata: b.user_metadata,
    appMetadata: b.app_metadata,
    banDuration: b.ban_duration,
  };
}

/** POST /admin/users → User */
export const createUser = endpoint({ auth: 'admin', body: CreateBody }, async ({ body, meta, admin }, deps) => {
  const user = await adminCreateUser(deps, meta, admin, { id: body.id, aud: body.aud, ...userFieldsOf(body) });
  return userJson(user);
});

/** GET /admin/users/{user_id} → User */
export const getUser = endpoint({ auth: 'admin', params: UserPath }, async ({ params }, deps) => userJson(await adminGetUser(deps, params.user_id)));

/** PUT /admin/users/{user_id} → User. An unknown user is 404 before the body is read, as in GoTrue. */
export const updateUser = endpoint({ auth: 'admin', params: UserPath }, async ({ params, body, meta, admin }, deps) => {
  await adminGetUser(deps, params.user_id);
  const user = await adminUpdateUser(deps, meta, admin, params.user_id, userFieldsOf(parseBody(body, UpdateBody)));
  return userJson(user);
});

/** DELETE /admin/users/{user_id} {should_soft_delete?} → {}. The body is optional (absent = hard delete). */
export const deleteUser = endpoint(
  { auth: 'admin', params: UserPath, body: z.object({ should_soft_delete: optBool() }).optional() },
  async ({ params, body, meta, admin }, deps) => {
    await adminDeleteUser(deps, meta, admin, params.user_id, { soft: body?.should_soft_delete === true });
    return {};
  },
);
