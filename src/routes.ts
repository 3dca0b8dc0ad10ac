import { Router } from 'express';
import { createCustomProvider, deleteCustomProvider, getCustomProvider, listCustomProviders, updateCustomProvider } from './api/admin/custom-providers';
import { getProviderToken } from './api/admin/provider-tokens';
import { authorize, callback } from './api/external';
import { health, healthReady } from './api/health';
import { linkIdentity, requireManualLinking, unlinkIdentity } from './api/identities';
import { invite } from './api/invite';
import { logout } from './api/logout';
import { magicLink, otp } from './api/otp';
import { recover } from './api/recover';
import { resend } from './api/resend';
import { settings } from './api/settings';
import { signup } from './api/signup';
import { token } from './api/token';
import { getUser, reauthenticate, updateUser } from './api/user';
import { verifyGet, verifyPost } from './api/verify';
import { wellKnownJwks, wellKnownOpenId } from './api/well-known';
import { openApiDocument } from './api/openapi';
import { listAudit } from './api/admin/audit';
import { deleteFactor, listFactors, updateFactor } from './api/admin/factors';
import { generateLink } from './api/admin/generate-link';
import { createUser, deleteUser, getUser as adminGetUser, listUsers, updateUser as adminUpdateUser } from './api/admin/users';
import type { Deps } from './deps';
import { challengeFactor, enrollFactor, unenrollFactor, verifyFactor } from './features/mfa/handlers';
import { deleteRecoveryCodes, generateRecoveryCodes, recoveryCodesStatus, regenerateRecoveryCodes, verifyRecoveryCode } from './features/mfa/handlers';
import { adminListUserSessions, adminRevokeUserSession, adminRevokeUserSessions, listMySessions, revokeMyOtherSessions, revokeMySession } from './features/sessions/handlers';
import { consentAuthorization, getAuthorization, oauthAuthorize } from './features/oauth-server/authorize';
import { adminCreateClient, adminDeleteClient, adminGetClient, adminListClients, adminRegenerateSecret, adminUpdateClient, dynamicRegisterClient } from './features/oauth-server/clients';
import { oauthToken } from './features/oauth-server/grants';
import { oauthDiscovery, oauthIntrospect, oauthRevoke, oauthUserinfo, requireOauthServer } from './features/oauth-server/protocol';
import { oauthLogout } from './features/oauth-server/logout';
import { adminCreateResource, adminDeleteResource, adminGetResource, adminListResources, adminUpdateResource } from './features/oauth-server/resource-admin';
import { adminListGrants, adminRevokeGrant, listMyGrants, revokeMyGrant } from './features/oauth-server/user-grants';
import { adminApproveAuthorization, adminDenyAuthorization, adminGetAuthorization } from './features/oauth-server/approve-by-api';
import { hostedPagesOn, pageConsent, pagesErrorHandler, pageSignIn, pageStep, pageTotp, requireHostedPages } from './features/oauth-pages/handlers';
import { requireAdmin } from './http/middleware/require-admin';
import { createCaptchaGuards } from './http/middleware/captcha';
import { createRateLimits } from './http/middleware/rate-limit';
import { routeTable, unlimited } from './http/route-table';

/** THE route table: every path, its rate-limit bucket, who may call it, and its handler. */
export function buildRouter(deps: Deps): Router {
  const r = Router();
  const t = routeTable(r, deps);
  const limit = createRateLimits(deps);
  const manualLinking = requireManualLinking(deps);
  // GOTRUE_SECURITY_CAPTCHA_*: the routes GoTrue guards carry `captcha` after their bucket.
  const { captcha, tokenCaptcha } = createCaptchaGuards(deps);

  t.get('/health', unlimited, 'none', health);
  t.get('/health/ready', unlimited, 'none', healthReady);
  t.get('/settings', unlimited, 'none', settings);
  // Public key material, cacheable: plain handlers rather than endpoint()s, which answer no-store.
  r.get('/.well-known/jwks.json', wellKnownJwks(deps));
  const oauthServer = requireOauthServer(deps);
  const oauthDocument = deps.config.oauthServer.enabled ? oauthDiscovery(deps) : undefined;
  r.get('/.well-known/openid-configuration', wellKnownOpenId(deps, oauthDocument));
  r.get('/.well-known/oauth-authorization-server', oauthServer, wellKnownOpenId(deps, oauthDocument));
  r.get('/.well-known/openid-configuration', wellKnownOpenId(deps));
  // The OpenAPI 3.1 document of this table (src/http/openapi.ts), public and cacheable.
  r.get('/openapi.json', openApiDocument(r));

  t.post('/signup', [limit.signup, captcha], 'none', signup);
  t.post('/token', [limit.token, tokenCaptcha], 'none', token);

  t.get('/authorize', limit.external, 'none', authorize);
  t.get('/callback', limit.external, 'none', callback);
  t.post('/callback', limit.external, 'none', callback);
  t.post('/otp', [limit.otp, captcha], 'none', otp);
  t.post('/magiclink', [limit.magiclink, captcha], 'none', magicLink);
  t.post('/recover', [limit.recover, captcha], 'none', recover);
  t.post('/resend', [limit.resend, captcha], 'none', resend);
  t.get('/verify', limit.verify, 'none', verifyGet);
  t.post('/verify', limit.verify, 'none', verifyPost);

  t.get('/user', unlimited, 'user', getUser);
  t.put('/user', limit.user, 'user', updateUser);
  t.get('/reauthenticate', limit.reauthenticate, 'user', reauthenticate);
  t.post('/logout', unlimited, 'user', logout);
  t.get('/user/identities/authorize', [manualLinking, limit.external], 'user', linkIdentity);
  t.delete('/user/identities/:identity_id', [manualLinking, unlimited], 'user', unlinkIdentity);

  // MFA recovery codes (auth-js's experimental mfa.recoveryCodes); before /factors/:factor_id so the path is not an id.
  t.get('/factors/recovery-codes', unlimited, 'user', recoveryCodesStatus);
  t.post('/factors/recovery-codes', unlimited, 'user', generateRecoveryCodes);
  t.post('/factors/recovery-codes/regenerate', unlimited, 'user', regenerateRecoveryCodes);
  t.post('/factors/recovery-codes/verify', limit.mfaVerify, 'user', verifyRecoveryCode);
  t.delete('/factors/recovery-codes', unlimited, 'user', deleteRecoveryCodes);
  // Sessions API (ours; GoTrue has none): list, end one, end all others.
  t.get('/user/sessions', unlimited, 'user', listMySessions);
  t.delete('/user/sessions', unlimited, 'user', revokeMyOtherSessions);
  t.delete('/user/sessions/:session_id', unlimited, 'user', revokeMySession);

  // MFA (GoTrue's /factors): enrol, challenge, verify (→ aal2), unenrol.
  t.post('/factors', unlimited, 'user', enrollFactor);
  t.post('/factors/:factor_id/challenge', limit.mfaChallenge, 'user', challengeFactor);
  t.post('/factors/:factor_id/verify', limit.mfaVerify, 'user', verifyFactor);
  t.delete('/factors/:factor_id', unlimited, 'user', unenrollFactor);

  // OAuth 2.1 / OpenID provider (issue 12): apps sign in with us. Every route 404s while the server is off.
  t.get('/oauth/authorize', [oauthServer, limit.external], 'none', oauthAuthorize);
  t.get('/oauth/authorizations/:authorization_id', [oauthServer, unlimited], 'user', getAuthorization);
  t.post('/oauth/authorizations/:authorization_id/consent', [oauthServer, unlimited], 'user', consentAuthorization);
  t.post('/oauth/token', [oauthServer, limit.oauthToken], 'none', oauthToken);
  t.post('/oauth/revoke', [oauthServer, limit.oauthToken], 'none', oauthRevoke);
  t.post('/oauth/introspect', [oauthServer, limit.oauthToken], 'none', oauthIntrospect);
  t.get('/oauth/userinfo', [oauthServer, unlimited], 'none', oauthUserinfo);
  t.post('/oauth/userinfo', [oauthServer, unlimited], 'none', oauthUserinfo);
  t.get('/oauth/logout', [oauthServer, limit.oauthToken], 'none', oauthLogout);
  t.post('/oauth/logout', [oauthServer, limit.oauthToken], 'none', oauthLogout);
  t.post('/oauth/clients/register', [oauthServer, limit.oauthRegister], 'none', dynamicRegisterClient);
  t.get('/user/oauth/grants', [oauthServer, unlimited], 'user', listMyGrants);
  t.delete('/user/oauth/grants', [oauthServer, unlimited], 'user', revokeMyGrant);

  // Hosted pages (issue 15, GOTRUE_OAUTH_SERVER_HOSTED_PAGES_ENABLED): sign-in, TOTP and consent as HTML forms, each
  // post at its API twin's rate; 404 unless enabled with no AUTHORIZATION_PATH. Their errors are HTML pages too.
  const hostedPages = requireHostedPages(deps);
  t.get('/oauth/pages/consent', [hostedPages, limit.external], 'none', pageStep);
  t.post('/oauth/pages/sign-in', [hostedPages, limit.token], 'none', pageSignIn);
  t.post('/oauth/pages/mfa', [hostedPages, limit.mfaVerify], 'none', pageTotp);
  t.post('/oauth/pages/consent', [hostedPages, unlimited], 'none', pageConsent);
  if (hostedPagesOn(deps.config.oauthServer)) r.use('/oauth/pages', pagesErrorHandler(deps));

  t.post('/invite', unlimited, 'admin', invite);

  // Approve by API (issue 15): a platform's backend, with an admin JWT or X-API-Key (GOTRUE_OAUTH_SERVER_API_KEY);
  // mounted before the /admin guard below, which would refuse the API key.
  t.get('/admin/oauth/authorizations/:authorization_id', [oauthServer, limit.oauthApiKey], 'backend', adminGetAuthorization);
  t.post('/admin/oauth/authorizations/:authorization_id/approve', [oauthServer, limit.oauthApiKey], 'backend', adminApproveAuthorization);
  t.post('/admin/oauth/authorizations/:authorization_id/deny', [oauthServer, limit.oauthApiKey], 'backend', adminDenyAuthorization);

  // Admin API (contract §1.9): every /admin path requires an admin-role JWT, unknown ones included.
  r.use('/admin', requireAdmin(deps));
  t.get('/admin/users', unlimited, 'admin', listUsers);
  t.post('/admin/users', unlimited, 'admin', createUser);
  t.get('/admin/users/:user_id', unlimited, 'admin', adminGetUser);
  t.put('/admin/users/:user_id', unlimited, 'admin', adminUpdateUser);
  t.delete('/admin/users/:user_id', unlimited, 'admin', deleteUser);
  t.get('/admin/users/:user_id/factors', unlimited, 'admin', listFactors);
  t.put('/admin/users/:user_id/factors/:factor_id', unlimited, 'admin', updateFactor);
  t.delete('/admin/users/:user_id/factors/:factor_id', unlimited, 'admin', deleteFactor);
  t.get('/admin/users/:user_id/sessions', unlimited, 'admin', adminListUserSessions);
  t.delete('/admin/users/:user_id/sessions', unlimited, 'admin', adminRevokeUserSessions);
  t.delete('/admin/users/:user_id/sessions/:session_id', unlimited, 'admin', adminRevokeUserSession);
  t.get('/admin/users/:id/provider-tokens/:provider', unlimited, 'admin', getProviderToken);
  t.post('/admin/generate_link', unlimited, 'admin', generateLink);
  t.get('/admin/audit', unlimited, 'admin', listAudit);
  t.get('/admin/custom-providers', unlimited, 'admin', listCustomProviders);
  t.post('/admin/custom-providers', unlimited, 'admin', createCustomProvider);
  t.get('/admin/custom-providers/:id', unlimited, 'admin', getCustomProvider);
  t.put('/admin/custom-providers/:id', unlimited, 'admin', updateCustomProvider);
  t.delete('/admin/custom-providers/:id', unlimited, 'admin', deleteCustomProvider);
  t.get('/admin/oauth/clients', [oauthServer, unlimited], 'admin', adminListClients);
  t.post('/admin/oauth/clients', [oauthServer, unlimited], 'admin', adminCreateClient);
  t.get('/admin/oauth/clients/:client_id', [oauthServer, unlimited], 'admin', adminGetClient);
  t.put('/admin/oauth/clients/:client_id', [oauthServer, unlimited], 'admin', adminUpdateClient);
  t.delete('/admin/oauth/clients/:client_id', [oauthServer, unlimited], 'admin', adminDeleteClient);
  t.post('/admin/oauth/clients/:client_id/regenerate_secret', [oauthServer, unlimited], 'admin', adminRegenerateSecret);
  t.get('/admin/oauth/resources', [oauthServer, unlimited], 'admin', adminListResources);
  t.post('/admin/oauth/resources', [oauthServer, unlimited], 'admin', adminCreateResource);
  t.get('/admin/oauth/resources/:id', [oauthServer, unlimited], 'admin', adminGetResource);
  t.put('/admin/oauth/resources/:id', [oauthServer, unlimited], 'admin', adminUpdateResource);
  t.delete('/admin/oauth/resources/:id', [oauthServer, unlimited], 'admin', adminDeleteResource);
  t.get('/admin/users/:user_id/oauth/grants', [oauthServer, unlimited], 'admin', adminListGrants);
  t.delete('/admin/users/:user_id/oauth/grants', [oauthServer, unlimited], 'admin', adminRevokeGrant);

  return r;
}
