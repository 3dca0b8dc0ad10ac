import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy of a test's own between a server and its database (Postgres, Redis), to fake an outage without
 * touching the shared server: `refuse` drops open connections and closes new ones at once, `blackhole` drops open
 * connections and accepts new ones that never answer, `freeze` keeps open connections open but stops forwarding
 * (a peer gone without FIN or RST) and accepts new ones that never answer, `pass` forwards new connections again.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private mode: 'pass' | 'refuse' | 'blackhole' | 'freeze' = 'pass';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private track(s: Socket): void {
    s.on('error', () => {});
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    if (this.mode === 'blackhole' || this.mode === 'freeze') return;
    const upstream = connect(this.target.port, this.target.host);
    this.track(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on('close', () => {
      upstream.destroy();
      this.pairs.delete(pair);
    });
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  }

  /** Switches mode; `refuse` and `blackhole` drop every open connection first. */
  set(mode: TcpProxy['mode']): void {
    this.mode = mode;
    if (mode === 'freeze') {
      for (const [client, upstream] of this.pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    } else if (mode !== 'pass') {
      for (const s of this.sockets) s.destroy();
    }
  }

  close(): Promise<void> {
    this.set('refuse');
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
