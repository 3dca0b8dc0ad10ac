import type { MailTransport, OutgoingMail } from './transport';

/** Keeps every mail in memory (unit tests; integration tests use a real SMTP listener instead). */
export interface MemoryTransport extends MailTransport {
  readonly sent: OutgoingMail[];
}

export function createMemoryTransport(): MemoryTransport {
  const sent: OutgoingMail[] = [];
  return {
    name: 'memory',
    sent,
    async send(mail) {
      sent.push(mail);
    },
  };
}
