import type { RequestHandler } from 'express';
import type { Deps } from '../deps';
import { VERSION } from '../version';

/** GET /health */
export const health = (_deps: Deps): RequestHandler => (_req, res) => {
  res.json({ version: VERSION, name: 'GoTrue', description: 'GoTrue is a user registration and authentication API' });
};
