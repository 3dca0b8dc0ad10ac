import type { Clock, Random } from '../crypto/clock';
import type { Config } from '../config';
import type { Signer } from '../crypto/signer';
import type { Fetch } from '../external/types';
import type { Logger } from 'pino';
import type { Executor } from '../db/database';
import { deleteClientSession, listBackchannelSessions, type EndingSession } from '../db/repositories/oauth-logout';
import { oauthIssuer } from './oauth-server';

/**
 * OpenID Connect Back-Channel Logout 1.0 (issue 15, item 6): when a session held by an OAuth client with a
 * `backchannel_logout_uri` ends, that client is told with a signed logout token (iss, aud = the client, iat, exp, jti,
 * sub, sid, the back-channel event; never a nonce), POSTed form-encoded as `logout_token=…`.
 *
 * Flows read the ending sessions with `endingSessions` inside their transaction, before the delete, and hand them to
 * `notify` after commit. `notify` returns at once: delivery runs in the background, retried with backoff on a
 * network error or a non-2xx answer, and a failure is logged, never reported to the user's request.
 */

export { type EndingSession };

/** The user's sessions that a client will have to hear about, read before they end. */
export const endingSessions = listBackchannelSessions;

export interface BackchannelOptions {
  /** Deliveries after the first (default 3). */
  retries: number;
  /** Delay before the first retry, doubled for each next one (default 1000 ms). */
  backoffMs: number;
  /** Per-request timeout (default 5000 ms). */
  timeoutMs: number;
}

export interface BackchannelLogout {
  /** Starts delivery of one logout token per session; never throws, never waits. */
  notify(sessions: readonly EndingSession[]): void;
  /** Resolves when every delivery started so far has finished (tests, graceful shutdown). */
  idle(): Promise<void>;
}

export const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export function createBackchannelLogout(d: {
  config: Pick<Config, 'api' | 'jwt'>;
  signer: Signer;
  clock: Clock;
  random: Random;
  logger: Logger;
  fetch: Fetch;
  options?: Partial<BackchannelOptions> | undefined;
}): BackchannelLogout {
  const o: BackchannelOptions = { retries: 3, backoffMs: 1000, timeoutMs: 5000, ...d.options };
  const pending = new Set<Promise<void>>();

  async function deliver(s: EndingSession): Promise<void> {
    const iat = Math.floor(d.clock.now().getTime() / 1000);
    const token = await d.signer.sign({ iss: oauthIssuer(d.config), aud: s.client_id, iat, exp: iat + 120, jti: d.random.uuid(), sub: s.user_id, sid: s.session_id, events: { [EVENT]: {} } });
    for (let attempt = 0; ; attempt++) {
      let problem: string;
      try {
        const res = await d.fetch(s.backchannel_logout_uri, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ logout_token: token }).toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        problem = `status ${res.status}`;
      } catch (err) {
        problem = (err as Error).name;
      }
      if (attempt >= o.retries) {
        d.logger.warn({ client_id: s.client_id, attempts: attempt + 1, problem }, 'back-channel logout not delivered');
        return;
      }
      await new Promise((r) => setTimeout(r, o.backoffMs * 2 ** attempt));
    }
  }

  return {
    notify(sessions) {
      for (const s of sessions) {
        const p = deliver(s).catch((err: unknown) => d.logger.error({ err, client_id: s.client_id }, 'back-channel logout failed'));
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

/**
 * RP-initiated logout: ends the session an ID token names (its `sid`, for its `sub` and `aud`), inside the caller's
 * transaction; returns the sessions back-channel clients must now hear about (call `notify` with them).
 */
export async function endNamedSession(
  ex: Executor,
  s: { sessionId: string; userId: string; clientId: string },
): Promise<{ ended: boolean; notify: EndingSession[] }> {
  const notify = await listBackchannelSessions(ex, s.userId, { only: s.sessionId });
  const ended = await deleteClientSession(ex, s.sessionId, s.userId, s.clientId);
  return { ended, notify: ended ? notify.filter((n) => n.client_id === s.clientId) : [] };
}
