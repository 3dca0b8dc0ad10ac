import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminCreate, adminHeaders, auditOf, insertFactor } from '../helpers/admin';
import { useTestApp } from '../helpers/test-app';
import { uniqueEmail } from '../helpers/test-server';

const { db, deps, app } = useTestApp();
let admin: Record<string, string>;

beforeAll(() => {
  admin = adminHeaders(deps);
});

const getUser = (id: string) => request(app).get(`/admin/users/${id}`).set(admin);

describe('admin factor routes', () => {
  it('list a user’s factors ([] when none) without their secrets', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail() });
    expect((await request(app).get(`/admin/users/${u.id}/factors`).set(admin)).body).toEqual([]);
    const totp = await insertFactor(db, u.id, { name: 'Phone app' });
    const sms = await insertFactor(db, u.id, { type: 'phone', phone: '15550001234', status: 'unverified' });
    const r = await request(app).get(`/admin/users/${u.id}/factors`).set(admin);
    expect(r.body).toEqual([
      { id: totp, friendly_name: 'Phone app', factor_type: 'totp', status: 'verified', created_at: expect.any(String), updated_at: expect.any(String), phone: '', last_challenged_at: null },
      expect.objectContaining({ id: sms, factor_type: 'phone', status: 'unverified', phone: '15550001234' }),
    ]);
    expect(JSON.stringify(r.body)).not.toContain('secret');
    expect((await getUser(u.id)).body.factors).toHaveLength(2);
  });

  it('update a friendly name (conflicts are 422) and a phone factor’s number; audited as factor_updated', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail() });
    const a = await insertFactor(db, u.id, { name: 'one' });
    await insertFactor(db, u.id, { name: 'two' });
    const sms = await insertFactor(db, u.id, { type: 'phone', phone: '15550001111' });
    const renamed = await request(app).put(`/admin/users/${u.id}/factors/${a}`).set(admin).send({ friendly_name: 'uno', phone: '+1 555 999 0000' });
    expect(renamed.body).toMatchObject({ id: a, friendly_name: 'uno', phone: '' });
    const clash = await request(app).put(`/admin/users/${u.id}/factors/${a}`).set(admin).send({ friendly_name: 'two' });
    expect([clash.status, clash.body.code]).toEqual([422, 'mfa_factor_name_conflict']);
    const moved = await request(app).put(`/admin/users/${u.id}/factors/${sms}`).set(admin).send({ phone: '+1 555 999 0000' });
    expect(moved.body).toMatchObject({ id: sms, phone: '15559990000' });
    expect((await auditOf(db, u.id)).filter((x) => x.action === 'factor_updated')).toHaveLength(2);
  });

  it('delete a factor, returning it; audited as factor_deleted', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail() });
    const f = await insertFactor(db, u.id, { name: 'gone' });
    const r = await request(app).delete(`/admin/users/${u.id}/factors/${f}`).set(admin);
    expect([r.status, r.body.id, r.body.friendly_name]).toEqual([200, f, 'gone']);
    expect((await request(app).get(`/admin/users/${u.id}/factors`).set(admin)).body).toEqual([]);
    expect((await auditOf(db, u.id)).at(-1)).toMatchObject({ action: 'factor_deleted', log_type: 'factor', traits: { user_id: u.id, factor_id: f } });
  });

  it('answer unknown factors, and factors of another user, 404 mfa_factor_not_found', async () => {
    const u = await adminCreate(app, deps, { email: uniqueEmail() });
    const other = await adminCreate(app, deps, { email: uniqueEmail() });
    const theirs = await insertFactor(db, other.id);
    for (const fid of [crypto.randomUUID(), theirs]) {
      const del = await request(app).delete(`/admin/users/${u.id}/factors/${fid}`).set(admin);
      expect([del.status, del.body.code]).toEqual([404, 'mfa_factor_not_found']);
      const upd = await request(app).put(`/admin/users/${u.id}/factors/${fid}`).set(admin).send({ friendly_name: 'x' });
      expect([upd.status, upd.body.code]).toEqual([404, 'mfa_factor_not_found']);
    }
    expect((await request(app).get(`/admin/users/${other.id}/factors`).set(admin)).body).toHaveLength(1);
    const noUser = await request(app).get(`/admin/users/${crypto.randomUUID()}/factors`).set(admin);
    expect([noUser.status, noUser.body.code]).toEqual([404, 'user_not_found']);
  });
});
