import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOnLoopback } from './loopback';

/** One request as the vendor received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body text. */
  body: string;
  /** The body read as an HTML form (what every SMS vendor here is sent). */
  form: Record<string, string>;
}

/** What the stand-in answers: a status and a JSON body, or `hang` to never answer. */
export type StandInReply = { status: number; json: unknown } | 'hang';

export interface VendorStandIn {
  url: string;
  requests: RecordedRequest[];
  /** Sets the reply for the following requests. */
  reply(r: StandInReply | ((req: RecordedRequest) => StandInReply)): void;
  close(): Promise<void>;
}

/**
 * A local HTTP stand-in for an SMS vendor's API on 127.0.0.1 (a real socket, a real HTTP exchange): it records
 * each request and answers with the configured reply.
 */
export async function startVendorStandIn(initial: StandInReply): Promise<VendorStandIn> {
  let replyWith: StandInReply | ((req: RecordedRequest) => StandInReply) = initial;
  const requests: RecordedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      };
      requests.push(recorded);
      const r = typeof replyWith === 'function' ? replyWith(recorded) : replyWith;
      if (r === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(r.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(r.json));
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    requests,
    reply(r) {
      replyWith = r;
    },
    close: () => {
      for (const res of hanging) res.destroy();
      return listening.close();
    },
  };
}

/** A loopback URL where nothing listens (a port just released), for "connection refused". */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
