import { z } from 'zod';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { safeString } from '../../http/fields';
import { idTokenGrant } from '../../services/id-token-grant';
import { tokenResponseJson } from '../shapes';
import type { Grant } from './index';

const str = (max: number) => safeString(max).nullish().transform((v) => v ?? undefined);
const IdTokenBody = z.object({
  id_token: str(16_384),
  access_token: str(16_384),
  nonce: str(1024),
  provider: str(100),
  client_id: str(512),
  issuer: str(1024),
  link_identity: z.boolean().nullish(),
});

/** Input problems answered as GoTrue does for this grant: 400 {error: "invalid request", error_description}. */
const invalid = (message: string) => badRequest(ErrorCodes.validationFailed, message, { oauth: { error: 'invalid request' } });

/** POST /token?grant_type=id_token {id_token, access_token?, nonce?, provider, link_identity?} */
export const idToken: Grant = async ({ body, meta, authenticateUser }, deps) => {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('Could not read the request body as JSON');
  const parsed = IdTokenBody.safeParse(body);
  if (!parsed.success) throw invalid(`${parsed.error.issues[0]?.path.join('.') ?? 'body'}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const b = parsed.data;
  if (!b.id_token) throw invalid('id_token required');
  if (!b.provider) throw invalid(b.client_id || b.issuer ? 'provider required (issuer-based lookup is not supported)' : 'provider or client_id and issuer required');
  const linkTo = b.link_identity ? (await authenticateUser()).user.id : undefined;
  const r = await idTokenGrant(deps, meta, { idToken: b.id_token, accessToken: b.access_token, nonce: b.nonce, provider: b.provider, linkTo });
  return tokenResponseJson(r.tokens, r.user);
};
