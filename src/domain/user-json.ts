/** GoTrue's User, Identity and Factor JSON, in the domain so that hook payloads carry the same User the API answers. */
import type { FactorJson, IdentityJson, UserWithRelations } from './user-records';

const iso = (d: Date | string | null | undefined): string | undefined =>
  d === null || d === undefined ? undefined : new Date(d).toISOString();

/** Sets key only when the value is not null/undefined (GoTrue's `omitempty`). */
function put(out: Record<string, unknown>, key: string, value: unknown) {
  if (value !== undefined && value !== null) out[key] = value;
}

export function identityJson(i: IdentityJson) {
  return {
    identity_id: i.id,
    id: i.provider_id,
    user_id: i.user_id,
    identity_data: i.identity_data,
    provider: i.provider,
    last_sign_in_at: iso(i.last_sign_in_at),
    created_at: iso(i.created_at),
    updated_at: iso(i.updated_at),
    email: i.email ?? undefined,
  };
}

/** A factor as a relation (JSON, timestamps as strings) or as a row (timestamps as Dates). */
type FactorLike = Omit<FactorJson, 'created_at' | 'updated_at' | 'last_challenged_at'> & {
  created_at: Date | string;
  updated_at: Date | string;
  last_challenged_at: Date | string | null;
};

export function factorJson(f: FactorLike) {
  const out: Record<string, unknown> = {
    id: f.id,
    friendly_name: f.friendly_name ?? undefined,
    factor_type: f.factor_type,
    status: f.status,
    created_at: iso(f.created_at),
    updated_at: iso(f.updated_at),
    phone: f.phone ?? '',
    last_challenged_at: iso(f.last_challenged_at) ?? null,
  };
  put(out, 'web_authn_aaguid', f.web_authn_aaguid);
  return out;
}

/** The User object of contract §2, field for field, in GoTrue's order. */
export function userJson(u: UserWithRelations): Record<string, unknown> {
  const out: Record<string, unknown> = { id: u.id, aud: u.aud ?? '', role: u.role ?? '', email: u.email ?? '' };
  put(out, 'email_confirmed_at', iso(u.email_confirmed_at));
  put(out, 'invited_at', iso(u.invited_at));
  out.phone = u.phone ?? '';
  put(out, 'phone_confirmed_at', iso(u.phone_confirmed_at));
  put(out, 'confirmation_sent_at', iso(u.confirmation_sent_at));
  put(out, 'confirmed_at', iso(u.confirmed_at ?? u.email_confirmed_at ?? u.phone_confirmed_at));
  put(out, 'recovery_sent_at', iso(u.recovery_sent_at));
  if (u.email_change) out.new_email = u.email_change;
  put(out, 'email_change_sent_at', iso(u.email_change_sent_at));
  if (u.phone_change) out.new_phone = u.phone_change;
  put(out, 'phone_change_sent_at', iso(u.phone_change_sent_at));
  put(out, 'reauthentication_sent_at', iso(u.reauthentication_sent_at));
  put(out, 'last_sign_in_at', iso(u.last_sign_in_at));
  out.app_metadata = u.raw_app_meta_data ?? {};
  out.user_metadata = u.raw_user_meta_data ?? {};
  if (u.factors.length > 0) out.factors = u.factors.map(factorJson);
  out.identities = u.identities.map(identityJson);
  out.created_at = iso(u.created_at);
  out.updated_at = iso(u.updated_at);
  put(out, 'banned_until', iso(u.banned_until));
  put(out, 'deleted_at', iso(u.deleted_at));
  out.is_anonymous = u.is_anonymous;
  return out;
}
