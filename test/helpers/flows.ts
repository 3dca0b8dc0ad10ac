import request from 'supertest';
import type { Express } from 'express';
import { expect } from 'vitest';
import { API_VERSION, uniqueEmail } from './test-server';

/** Signs up (autoconfirm on) and returns the token response body. */
export async function signUp(app: Express, email = uniqueEmail(), password = 'pass-word-1', data?: Record<string, unknown>) {
  const res = await request(app).post('/signup').set(API_VERSION).send({ email, password, data });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { email, password, body: res.body as TokenBody };
}

export async function signIn(app: Express, email: string, password: string) {
  const res = await request(app).post('/token?grant_type=password').set(API_VERSION).send({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as TokenBody;
}

export const refresh = (app: Express, refreshToken: string) =>
  request(app).post('/token?grant_type=refresh_token').set(API_VERSION).send({ refresh_token: refreshToken });

export interface TokenBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  expires_at: number;
  user: { id: string; email: string; [k: string]: unknown };
  weak_password?: { reasons: string[] };
}

/** Decodes a JWT's payload without verifying (the server verified it). */
export const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
