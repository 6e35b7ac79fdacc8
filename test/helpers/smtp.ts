import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { selfSignedCertificate } from './tls.ts';

/** A mail as the server received it: the envelope, and the message parsed. */
export interface ReceivedMail {
  /** The envelope's MAIL FROM and RCPT TO (what the server was asked to deliver). */
  from: string;
  to: string[];
  /** Whether the session was encrypted (implicit TLS or after STARTTLS). */
  secure: boolean;
  /** The user who logged in, if any. */
  user: string | undefined;
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string[];
  /** The To header's addresses. */
  headerTo: string[];
  /** Every header, lower-case names. */
  headers: Map<string, unknown>;
  raw: string;
}

export interface SmtpServerOptions {
  /**
   * 'starttls' (default): plain connection that offers STARTTLS; 'implicit': TLS from the first
   * byte (port 465 style); 'none': no STARTTLS offered at all.
   */
  tls?: 'starttls' | 'implicit' | 'none';
  /** Require this login (over TLS only, unless tls is 'none'). */
  auth?: { username: string; password: string };
  /** Recipients the server refuses with 550. */
  rejectRecipients?: string[];
}

/**
 * A real SMTP server (`smtp-server`) on 127.0.0.1 and a random port, with its own self-signed
 * certificate (its `ca` is what a client must trust), optional login, and the received mail
 * parsed with `mailparser`.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  /** Logins tried, with whether they passed (the password is not kept). */
  readonly logins: { username: string; ok: boolean }[] = [];
  readonly host = '127.0.0.1';
  port = 0;
  /** The server certificate (PEM), self-signed: the CA a client must trust. */
  readonly ca: string;
  private readonly server: SMTPServer;

  private constructor(options: SmtpServerOptions) {
    const certificate = selfSignedCertificate();
    this.ca = certificate.cert;
    const mode = options.tls ?? 'starttls';
    const rejected = new Set((options.rejectRecipients ?? []).map((address) => address.toLowerCase()));
    const serverOptions: SMTPServerOptions = {
      secure: mode === 'implicit',
      key: certificate.key,
      cert: certificate.cert,
      hideSTARTTLS: mode === 'none',
      disabledCommands: [...(mode === 'none' ? ['STARTTLS'] : []), ...(options.auth === undefined ? ['AUTH'] : [])],
      authOptional: options.auth === undefined,
      allowInsecureAuth: mode === 'none',
      logger: false,
      onAuth: (auth, _session, callback) => {
        const ok =
          options.auth !== undefined &&
          auth.username === options.auth.username &&
          auth.password === options.auth.password;
        this.logins.push({ username: auth.username ?? '', ok });
        if (!ok) {
          callback(new Error('Authentication credentials invalid'));
          return;
        }
        callback(null, { user: auth.username });
      },
      onRcptTo: (address, _session, callback) => {
        if (rejected.has(address.address.toLowerCase())) {
          const error = Object.assign(new Error(`<${address.address}>: Recipient address rejected: User unknown`), {
            responseCode: 550,
          });
          callback(error);
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((mail) => {
              const references = mail.references === undefined ? [] : [mail.references].flat();
              this.received.push({
                from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
                secure: session.secure,
                user: typeof session.user === 'string' ? session.user : undefined,
                subject: mail.subject,
                text: mail.text,
                html: mail.html === false ? undefined : mail.html,
                messageId: mail.messageId,
                inReplyTo: mail.inReplyTo,
                references,
                headerTo: addresses(mail.to),
                headers: mail.headers,
                raw,
              });
              callback();
            })
            .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
        });
      },
    };
    this.server = new SMTPServer(serverOptions);
    this.server.on('error', () => undefined);
  }

  static async start(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
    const instance = new TestSmtpServer(options);
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    instance.port = (instance.server.server.address() as AddressInfo).port;
    return instance;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function addresses(value: AddressObject | AddressObject[] | undefined): string[] {
  if (value === undefined) return [];
  return [value]
    .flat()
    .flatMap((entry) => entry.value)
    .map((entry) => entry.address ?? '')
    .filter((address) => address !== '');
}
