import { createServer, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ErrorCodes, type ErrorCode } from '../errors/codes';

/** What Node's HTTP parser refused, as the status Node itself would answer and our error code. */
function refusal(code: string | undefined): [number, string, ErrorCode] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large', ErrorCodes.requestHeadersTooLarge];
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return [413, 'Payload Too Large', ErrorCodes.requestEntityTooLarge];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout', ErrorCodes.requestTimeout];
  return [400, 'Bad Request', ErrorCodes.validationFailed];
}

/**
 * The node HTTP server the app listens on. A request Node's parser refuses before the app sees it (headers or a
 * request line over Node's 16 KiB limit, malformed HTTP) is answered as every other error is — a JSON body with an
 * error_code and x-sb-error-code (the legacy shape: its headers, the API version among them, were never read) —
 * where Node alone would answer a bare status line.
 */
export function createHttpServer(app: RequestListener, logger: Logger): Server {
  const server = createServer(app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    const [status, reason, code] = refusal(err.code);
    logger.debug({ err: { code: err.code, message: err.message } }, 'request refused by the HTTP parser');
    const body = JSON.stringify({ code: status, error_code: code, msg: reason });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-sb-error-code: ${code}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
