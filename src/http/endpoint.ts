import type { Request, RequestHandler, Response } from 'express';
import type { z, ZodType } from 'zod';
import type { Deps } from '../deps';
import { resolveRedirectTo } from '../domain/redirect-url';
import type { RequestMeta } from '../domain/request-meta';
import { authenticateAdmin, authenticateBackend, authenticateUser, type AdminCaller, type AuthenticatedUser } from '../domain/authenticate';
import { forbidden } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import { parseBody } from './parse';
import { requestMeta } from './request-meta';

/**
 * Who may call: anyone; a signed-in user (a valid JWT whose user and session exist, contract §0); an admin (a JWT
 * whose role is in GOTRUE_JWT_ADMIN_ROLES); a platform's backend (an admin, or GOTRUE_OAUTH_SERVER_API_KEY in X-API-Key).
 */
export type AuthLevel = 'none' | 'user' | 'admin' | 'backend';

export interface EndpointSpec<A extends AuthLevel, B, Q, P, R extends boolean> {
  auth: A;
  /** The JSON body's schema (400 bad_json when it is not an object, validation_failed when it does not fit). */
  body?: B;
  /** The query's schema (req.query: strings, or string arrays for repeated keys). */
  query?: Q;
  /** The path parameters' schema (fields.uuidParam answers GoTrue's 404 for a malformed id). */
  params?: P;
  /** Resolve redirect_to (query, else the `redirect_to` header; else Referer; else SITE_URL: contract §6.7). */
  redirect?: R;
}

type Parsed<S, Else> = S extends ZodType ? z.output<S> : Else;

/** What a handler sees: typed input and the caller, never a bare `req`. */
export interface EndpointContext<A extends AuthLevel, B, Q, P, R extends boolean> {
  body: Parsed<B, unknown>;
  query: Parsed<Q, Record<string, unknown>>;
  params: Parsed<P, Record<string, string>>;
  /** Client IP, user agent and audience, built on first use (an over-long X-JWT-AUD is a 400 only where it matters). */
  readonly meta: RequestMeta;
  redirectTo: R extends true ? string : undefined;
  user: A extends 'user' ? AuthenticatedUser : undefined;
  admin: A extends 'admin' ? AdminCaller : undefined;
  /** The signed-in caller, for a flow that needs one only sometimes (id_token with link_identity). Resolved once. */
  authenticateUser(): Promise<AuthenticatedUser>;
  /** The URL as requested, path and query (pagination links repeat it). */
  url: string;
  /** For answers JSON cannot give: a status or header, a redirect, a 204. */
  res: Response;
  /** The raw request, only for a protocol client that needs it (the OAuth callback). */
  req: Request;
}

export type EndpointFn<A extends AuthLevel, B, Q, P, R extends boolean> = (ctx: EndpointContext<A, B, Q, P, R>, deps: Deps) => unknown;

/** A handler with its declared caller level; the route table binds it to deps and checks the level it shows. */
export interface Endpoint<A extends AuthLevel = AuthLevel> {
  readonly auth: A;
  /** The schemas it parses its input with, for the OpenAPI document (src/http/openapi.ts). */
  readonly schemas?: EndpointSchemas;
  handler(deps: Deps): RequestHandler;
}

/** An endpoint's input schemas, as declared in its spec. */
export interface EndpointSchemas {
  body?: ZodType;
  query?: ZodType;
  params?: ZodType;
}

/**
 * Wraps a thin handler (parse, one call, shape): resolves the caller (reusing the one `r.use('/admin',
 * requireAdmin)` admitted), parses path, query and body, resolves redirect_to when asked, sets
 * `Cache-Control: no-store`, and sends what `fn` returns as JSON. A handler that answered itself (redirect, 204)
 * returns undefined. Anything thrown reaches the error handler.
 */
export function endpoint<A extends AuthLevel, B extends ZodType | undefined = undefined, Q extends ZodType | undefined = undefined, P extends ZodType | undefined = undefined, R extends boolean = false>(
  spec: EndpointSpec<A, B, Q, P, R>,
  fn: EndpointFn<A, B, Q, P, R>,
): Endpoint<A> {
  const schemas: EndpointSchemas = {};
  if (spec.body) schemas.body = spec.body;
  if (spec.query) schemas.query = spec.query;
  if (spec.params) schemas.params = spec.params;
  return {
    auth: spec.auth,
    schemas,
    handler: (deps) => async (req, res) => {
      let user: AuthenticatedUser | undefined;
      const authenticate = async () => (user ??= await authenticateUser(deps, req.header('authorization')));
      if (spec.auth === 'user') {
        const caller = await authenticate();
        // An OAuth client's access token (issue 12) acts for the user on the resource servers it was granted, not on
        // the user's account: it reads (GET /user) but changes nothing here (password, email, factors, sessions).
        if (typeof caller.claims['client_id'] === 'string' && req.method !== 'GET') {
          throw forbidden(ErrorCodes.oauthClientTokenNotAllowed, "An OAuth client's access token cannot change the user's account");
        }
      }
      const admin = spec.auth === 'admin' ? ((res.locals.admin as AdminCaller | undefined) ?? (await authenticateAdmin(deps, req.header('authorization')))) : undefined;
      if (spec.auth === 'backend') await authenticateBackend(deps, req.header('x-api-key'), req.header('authorization'));
      const params: unknown = spec.params ? spec.params.parse(req.params) : { ...req.params };
      const query: unknown = spec.query ? spec.query.parse(req.query) : req.query;
      const body: unknown = spec.body ? parseBody(req.body, spec.body) : req.body;
      const redirectTo = spec.redirect ? resolveRedirectTo(deps.config, redirectCandidate(req), req.header('referer')) : undefined;
      let meta: RequestMeta | undefined;
      const ctx = {
        body,
        query,
        params,
        get meta() {
          return (meta ??= requestMeta(req, deps.config, (user ?? admin)?.claims));
        },
        redirectTo,
        user,
        admin,
        authenticateUser: authenticate,
        url: req.originalUrl,
        res,
        req,
      } as EndpointContext<A, B, Q, P, R>;
      res.setHeader('Cache-Control', 'no-store');
      const out = await fn(ctx, deps);
      if (out !== undefined) res.json(out);
      else if (!res.headersSent) throw new Error(`${req.method} ${req.path}: the handler returned nothing and sent nothing`);
    },
  };
}

/** The redirect_to a request names (query, else the `redirect_to` header), not yet validated. */
function redirectCandidate(req: Request): string | undefined {
  const q = req.query.redirect_to;
  if (typeof q === 'string' && q !== '') return q;
  const h = req.header('redirect_to');
  return h && h !== '' ? h : undefined;
}
