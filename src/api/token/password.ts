import { z } from 'zod';
import { email, phone, safeString } from '../../http/fields';
import { parseBody } from '../../http/parse';
import { passwordGrant } from '../../services/password-grant';
import { tokenResponseJson } from '../shapes';
import type { Grant } from './index';

const PasswordBody = z.object({ email: email(), phone: phone(), password: safeString() });

/** POST /token?grant_type=password */
export const password: Grant = async ({ body, meta }, deps) => {
  const result = await passwordGrant(deps, meta, parseBody(body, PasswordBody));
  return tokenResponseJson(result.tokens, result.user, result.weakPassword);
};
