import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { optObject, optString, parseBody } from '../../http/parse';
import { adminOf } from '../../http/middleware/require-admin';
import { requestMeta } from '../../http/request-meta';
import { adminCreateUser } from '../../services/admin/create-user';
import { adminDeleteUser } from '../../services/admin/delete-user';
import { adminUpdateUser, type AdminUpdateUserInput } from '../../services/admin/update-user';
import { adminGetUser, adminListUsers } from '../../services/admin/users';
import { userJson } from '../shapes';
import { parsePagination, queryParam, setPaginationHeaders } from './pagination';
import { optBool, uuidParam } from './params';

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

/** GET /admin/users?page&per_page&filter&sort → {users, aud} with X-Total-Count and Link. */
export const listUsers = (deps: Deps): RequestHandler => async (req, res) => {
  const page = parsePagination(req);
  const direction = parseSort(queryParam(req, 'sort'));
  const { aud } = requestMeta(req, deps.config);
  const filter = queryParam(req, 'filter');
  const { users, total } = await adminListUsers(deps, { aud, ...page, direction, filter: filter === '' ? undefined : filter });
  setPaginationHeaders(req, res, page, total);
  res.json({ users: users.map(userJson), aud });
};

const UserFields = {
  role: optString(),
  email: optString(),
  phone: optString(),
  password: optString(),
  password_hash: optString(),
  email_confirm: optBool(),
  phone_confirm: optBool(),
  user_metadata: optObject(),
  app_metadata: optObject(),
  ban_duration: optString(),
};
const CreateBody = z.object({ ...UserFields, id: optString(), aud: optString() });
const UpdateBody = z.object(UserFields);

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
export const createUser = (deps: Deps): RequestHandler => async (req, res) => {
  const b = parseBody(req, CreateBody);
  const user = await adminCreateUser(deps, requestMeta(req, deps.config), adminOf(res), { id: b.id, aud: b.aud, ...userFieldsOf(b) });
  res.json(userJson(user));
};

/** GET /admin/users/{user_id} → User */
export const getUser = (deps: Deps): RequestHandler => async (req, res) => {
  res.json(userJson(await adminGetUser(deps, uuidParam(req, 'user_id'))));
};

/** PUT /admin/users/{user_id} → User. An unknown user is 404 before the body is read, as in GoTrue. */
export const updateUser = (deps: Deps): RequestHandler => async (req, res) => {
  const userId = uuidParam(req, 'user_id');
  await adminGetUser(deps, userId);
  const b = parseBody(req, UpdateBody);
  const user = await adminUpdateUser(deps, requestMeta(req, deps.config), adminOf(res), userId, userFieldsOf(b));
  res.json(userJson(user));
};

const DeleteBody = z.object({ should_soft_delete: optBool() });

/** DELETE /admin/users/{user_id} {should_soft_delete?} → {}. The body is optional (absent = hard delete). */
export const deleteUser = (deps: Deps): RequestHandler => async (req, res) => {
  const userId = uuidParam(req, 'user_id');
  const soft = req.body === undefined ? false : parseBody(req, DeleteBody).should_soft_delete === true;
  await adminDeleteUser(deps, requestMeta(req, deps.config), adminOf(res), userId, { soft });
  res.json({});
};
