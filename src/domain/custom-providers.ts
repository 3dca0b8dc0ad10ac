/**
 * Generic OAuth/OIDC providers added through the admin API, at rest (their client secrets sealed by the caller).
 * Plain table access with no rule of its own, so the repository's functions are the domain's.
 */
export {
  countCustomProviders,
  deleteCustomProvider,
  findCustomProvider,
  insertCustomProvider,
  listCustomProviders,
  updateCustomProvider,
} from '../db/repositories/custom-providers';
