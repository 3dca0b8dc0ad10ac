import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { listenOnLoopback } from './loopback';

/** What one hook call carried: the path (one per hook kind), the parsed body, whether its signature verified. */
export interface HookCall {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** Verified with the receiver's secret through the standardwebhooks package (signature and timestamp). */
  verified: boolean;
}

/** How the receiver answers a call: status, body (an object is sent as application/json), headers, a delay. */
export interface HookAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface HookReceiver {
  url: string;
  /** The secret the server signs with (`v1,whsec_…`), as GOTRUE_HOOK_*_SECRETS takes it. */
  secret: string;
  calls: HookCall[];
  /** Calls to one path. */
  callsTo(path: string): HookCall[];
  /** Sets how a path answers from now on (default: 204 No Content). */
  answer(path: string, fn: (call: HookCall) => HookAnswer): void;
  reset(): void;
  close(): Promise<void>;
}

/** A newly generated Standard Webhooks secret in GoTrue's form. */
export const newHookSecret = () => `v1,whsec_${randomBytes(32).toString('base64')}`;

/**
 * A local hook endpoint, as a customer's would be: it checks every request's Standard Webhooks signature with the
 * `standardwebhooks` package (401 when it does not verify, as a real receiver would) and answers as told.
 */
export async function startHookReceiver(): Promise<HookReceiver> {
  const secret = newHookSecret();
  const verifier = new Webhook(secret.slice('v1,'.length));
  const calls: HookCall[] = [];
  const answers = new Map<string, (call: HookCall) => HookAnswer>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      try {
        verifier.verify(raw, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      const call: HookCall = { path: req.url ?? '/', body: JSON.parse(raw) as Record<string, unknown>, headers: req.headers, verified };
      calls.push(call);
      const a: HookAnswer = verified ? (answers.get(call.path) ?? (() => ({ status: 204 })))(call) : { status: 401 };
      const send = () => {
        if (res.destroyed) return;
        const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
        const type = a.body !== undefined && typeof a.body !== 'string' ? { 'content-type': 'application/json' } : {};
        res.writeHead(a.status ?? 200, { ...type, ...a.headers });
        res.end(body);
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return {
    url,
    secret,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    answer: (path, fn) => void answers.set(path, fn),
    reset: () => {
      calls.length = 0;
      answers.clear();
    },
    close,
  };
}
