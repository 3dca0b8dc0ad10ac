import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { expect } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database';
import type { Deps } from '../../src/deps';
import { API_VERSION } from './test-server';
import { serviceRoleJwt } from './tokens';

/** Headers of a backend calling the admin API with the service_role key. */
export const adminHeaders = (deps: Pick<Deps, 'config'>) => ({ Authorization: `Bearer ${serviceRoleJwt(deps)}`, ...API_VERSION });

/** POST /admin/users, expecting 200. */
export async function adminCreate(app: Express, deps: Pick<Deps, 'config'>, body: Record<string, unknown>) {
  const r = await request(app).post('/admin/users').set(adminHeaders(deps)).send(body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { id: string; email: string; phone: string; [k: string]: unknown };
}

/**
 * An MFA factor row, shaped as POST /factors writes it (the secret is not a real one): the admin factor routes are
 * tested over rows the test owns; test/e2e/mfa-auth-js.test.ts enrols real factors.
 */
export async function insertFactor(
  db: DatabaseHandle,
  userId: string,
  f: { type?: 'totp' | 'phone' | 'webauthn'; name?: string | null; phone?: string | null; status?: 'verified' | 'unverified' } = {},
): Promise<string> {
  const id = randomUUID();
  const now = new Date();
  await db.db
    .insertInto('mfa_factors')
    .values({
      id,
      user_id: userId,
      friendly_name: f.name ?? null,
      factor_type: f.type ?? 'totp',
      status: f.status ?? 'verified',
      created_at: now,
      updated_at: now,
      secret: 'not-a-real-secret',
      phone: f.phone ?? null,
    })
    .execute();
  return id;
}

/** Audit payloads whose traits name the user, oldest first. */
export async function auditOf(db: DatabaseHandle, userId: string) {
  const rows = await db.db.selectFrom('audit_log_entries').select(['payload', 'created_at']).orderBy('created_at').execute();
  return rows
    .map((r) => r.payload as { action: string; actor_username: string; actor_id: string; traits?: Record<string, unknown> })
    .filter((p) => p.traits?.['user_id'] === userId);
}
