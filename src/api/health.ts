import { endpoint } from '../http/endpoint';
import { VERSION } from '../version';

/** GET /health */
export const health = endpoint({ auth: 'none' }, () => ({
  version: VERSION,
  name: 'GoTrue',
  description: 'GoTrue is a user registration and authentication API',
}));
