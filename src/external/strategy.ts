import type { Request, Response } from 'express';
import passport from 'passport';
import type { ExternalProviders } from './registry';
import { ProviderError, type ExternalProvider, type ProviderTokenSet, type ProviderUserData } from './types';

/** What the server kept of the authorization request (flow_state + oauth_client_states), checked on callback. */
export interface CallbackChecks {
  state: string;
  codeVerifier?: string;
  nonce?: string;
}

export interface CallbackResult {
  userData: ProviderUserData;
  tokens: ProviderTokenSet;
}

interface CallbackOptions extends passport.AuthenticateOptions {
  checks: CallbackChecks;
  params: URLSearchParams;
}

/**
 * The callback leg of any provider as a passport strategy: exchanges the code (with the server-side PKCE verifier
 * and nonce), then maps the profile. Used with `session: false`: nothing is kept in a session; `state` is the
 * flow_state id the route already resolved.
 */
export class ProviderCallbackStrategy extends passport.Strategy {
  override readonly name: string;
  constructor(
    private readonly registry: ExternalProviders,
    private readonly provider: ExternalProvider,
  ) {
    super();
    this.name = provider.name;
  }

  override authenticate(_req: Request, options?: object): void {
    const o = options as CallbackOptions;
    this.run(o).then(
      (r) => this.success(r.userData, { tokens: r.tokens }),
      (err: unknown) => this.error(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private async run(o: CallbackOptions): Promise<CallbackResult> {
    const { tokens, claims } = await this.registry.protocol(this.provider).exchangeCode({
      params: o.params,
      state: o.checks.state,
      codeVerifier: o.checks.codeVerifier,
      nonce: o.checks.nonce,
    });
    try {
      const userData = await this.provider.userData(this.registry.profileContext(this.provider, tokens, claims, o.params));
      return { userData, tokens };
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw new ProviderError('invalid_response', (err as Error).message, { cause: err });
    }
  }
}

const authenticator = new passport.Authenticator();

/** Runs the provider's strategy through passport (session: false) and resolves with the user it learned. */
export function authenticateCallback(
  registry: ExternalProviders,
  provider: ExternalProvider,
  req: Request,
  res: Response,
  checks: CallbackChecks,
  params: URLSearchParams,
): Promise<CallbackResult> {
  return new Promise((resolve, reject) => {
    const options: CallbackOptions = { session: false, checks, params };
    const middleware = authenticator.authenticate(
      new ProviderCallbackStrategy(registry, provider),
      options,
      (err: unknown, user: ProviderUserData | false, info: { tokens?: ProviderTokenSet } | undefined) => {
        if (err) reject(err);
        else if (!user || !info?.tokens) reject(new ProviderError('rejected', 'the provider did not authenticate the user'));
        else resolve({ userData: user, tokens: info.tokens });
      },
    ) as (req: Request, res: Response, next: (err?: unknown) => void) => void;
    middleware(req, res, reject);
  });
}
