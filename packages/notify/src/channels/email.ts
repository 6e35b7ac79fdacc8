import { isLoopbackHost, retry, RetryExhaustedError } from '@deploy-suite/kit';
// Types only: nodemailer is loaded when a mail is sent, so a run without email does not pay for it.
import type { NodemailerError, SMTPTransportOptions } from 'nodemailer';

type Nodemailer = typeof import('nodemailer');
import {
  DeliveryError,
  digestOf,
  type Channel,
  type SendContext,
  type SendResult,
  unchangedIfSent,
} from '../channel.ts';
import { allLinks, facts, statusWord } from '../message.ts';
import { htmlText, oneLine } from '../escape.ts';

export const EMAIL_SECURITIES = ['tls', 'starttls', 'none'] as const;
/** 'tls': TLS from the first byte (port 465); 'starttls': STARTTLS required (port 587); 'none': loopback only. */
export type EmailSecurity = (typeof EMAIL_SECURITIES)[number];

export interface EmailConfig {
  host: string;
  port: number;
  security: EmailSecurity;
  username?: string;
  password?: string;
  /** CA certificate(s), PEM, to trust for the server's certificate (instead of the system's). */
  ca?: string;
  /** Verify the server's certificate; default true. */
  rejectUnauthorized?: boolean;
  from: string;
  to: string[];
}

/** Attempts per mail, the first included; only failures where the server did not take the mail are retried. */
const ATTEMPTS = 3;

/**
 * Why a security setting is refused for a host, or undefined when it is fine: 'none' sends the
 * mail and the password in clear text, so it is allowed only for a server on loopback.
 * Phrased to follow an input's name in an InputError.
 */
export function emailSecurityProblem(host: string, security: string): string | undefined {
  if (!(EMAIL_SECURITIES as readonly string[]).includes(security)) {
    return `must be one of ${EMAIL_SECURITIES.join(', ')}, not ${JSON.stringify(oneLine(security, 40))}`;
  }
  if (security === 'none' && !isLoopbackHost(host)) {
    return (
      "is 'none', which would send the mail and any password unencrypted to another machine; 'none' is allowed only for " +
      "a server on loopback (127.0.0.1, ::1, localhost): use 'starttls' (usually port 587) or 'tls' (usually port 465)"
    );
  }
  return undefined;
}

/**
 * Email over SMTP with nodemailer: one mail per stage to every recipient, plain text and HTML,
 * threaded in mail clients by In-Reply-To/References pointing at the first mail's Message-ID.
 * 'starttls' requires the upgrade (a server that does not offer it fails, nothing goes in clear);
 * every connection and wait ends by the step's deadline.
 */
export function emailChannel(config: EmailConfig): Channel {
  return {
    name: 'email',
    async send(context: SendContext): Promise<SendResult> {
      const previous = context.thread.email;
      const { message } = context;
      const unchanged = unchangedIfSent(previous, message.status);
      if (unchanged !== undefined) return unchanged;
      const problem = emailSecurityProblem(config.host, config.security);
      if (problem !== undefined) throw new DeliveryError(`Email: security ${problem}`, 0);
      if (config.rejectUnauthorized === false) context.log("email: the SMTP server's certificate is not verified");
      const mail = renderEmail(context);
      const root = previous?.messageId ?? undefined;
      let attempts = 0;
      try {
        const { value: info } = await retry(
          async () => {
            attempts++;
            return sendOnce(config, context, {
              from: config.from,
              to: config.to,
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
              headers: { 'Auto-Submitted': 'auto-generated' },
              ...(root === undefined ? {} : { inReplyTo: root, references: [root] }),
            });
          },
          {
            attempts: ATTEMPTS,
            baseDelayMs: 2000,
            maxDelayMs: 15_000,
            deadlineMs: Math.max(0, context.deadline - context.clock.now()),
            clock: context.clock,
            ...(context.signal === undefined ? {} : { signal: context.signal }),
            retryable,
          },
        );
        const messageId = typeof info.messageId === 'string' && info.messageId.length <= 300 ? info.messageId : null;
        // The server took the mail for some recipients and refused others: delivered, and said.
        const refused = (info.rejected ?? [])
          .filter((entry) => typeof entry === 'string')
          .map((entry) => oneLine(entry, 100));
        const accepted = config.to.length - refused.length;
        const to = `${accepted === 1 ? '1 recipient' : `${accepted} recipients`}${refused.length > 0 ? ` (the server refused ${refused.join(', ')})` : ''}`;
        if (refused.length > 0) context.log(`email: the SMTP server refused ${refused.join(', ')}`);
        return {
          outcome: 'delivered',
          detail: `mailed "${statusWord(message.status)}" to ${to}${root === undefined ? '' : ' (in the thread)'}`,
          attempts,
          state: {
            sent: [...(previous?.sent ?? []), message.status],
            digest: digestOf(mail),
            messageId: previous?.messageId ?? messageId,
          },
        };
      } catch (error) {
        throw failure(config, error, attempts);
      }
    },
  };
}

interface Sent {
  messageId?: string;
  rejected?: string[];
}

async function sendOnce(
  config: EmailConfig,
  context: SendContext,
  mail: Parameters<ReturnType<Nodemailer['createTransport']>['sendMail']>[0],
): Promise<Sent> {
  const remaining = context.deadline - context.clock.now();
  if (remaining <= 0) throw new DeliveryError("Email: the step's deadline passed");
  const options: SMTPTransportOptions = {
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    // 'starttls' means STARTTLS or nothing: a server (or someone in between) that does not offer
    // it gets no mail and no password in clear text.
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    tls: {
      rejectUnauthorized: config.rejectUnauthorized ?? true,
      minVersion: 'TLSv1.2',
      ...(config.ca === undefined ? {} : { ca: config.ca }),
    },
    ...(config.username === undefined ? {} : { auth: { user: config.username, pass: config.password ?? '' } }),
    connectionTimeout: Math.min(30_000, remaining),
    greetingTimeout: Math.min(30_000, remaining),
    socketTimeout: Math.min(60_000, remaining),
    dnsTimeout: Math.min(30_000, remaining),
    logger: false,
    debug: false,
  };
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(options);
  const abort = (): void => transport.close();
  context.signal?.addEventListener('abort', abort, { once: true });
  try {
    return await transport.sendMail(mail);
  } finally {
    context.signal?.removeEventListener('abort', abort);
    transport.close();
  }
}

const TLS_CODES =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED|ERR_SSL_.*)$/;

function codes(error: NodemailerError): string[] {
  const cause = (error as { cause?: unknown }).cause as NodemailerError | undefined;
  return [error.code, error.originalCode, cause?.code].filter((code): code is string => typeof code === 'string');
}

function isTlsFailure(error: NodemailerError): boolean {
  return codes(error).some((code) => code === 'ETLS' || TLS_CODES.test(code));
}

function isErrorLike(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

/** Worth another try only when the server did not take the mail: a 4xx refusal, or a connection that never got to DATA. */
function retryable(error: unknown): boolean {
  if (error instanceof DeliveryError || !isErrorLike(error)) return false;
  const e = error as NodemailerError;
  if (typeof e.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500 && e.code !== 'EAUTH';
  if (isTlsFailure(e)) return false;
  return (e.code === 'ECONNECTION' || e.code === 'ETIMEDOUT' || e.code === 'ESOCKET') && e.command !== 'DATA';
}

/** An SMTP failure as one clear line: what the server refused and what to do, never the password. */
function failure(config: EmailConfig, error: unknown, attempts: number): DeliveryError {
  const server = `SMTP server ${config.host}:${config.port}`;
  const scrub = (text: string | undefined): string => {
    let safe = oneLine(text ?? '', 200);
    const secrets = [
      config.password,
      config.password && Buffer.from(`\0${config.username ?? ''}\0${config.password}`).toString('base64'),
    ];
    for (const secret of secrets) if (secret) safe = safe.split(secret).join('***');
    return safe;
  };
  let last = error;
  let how = '';
  if (error instanceof RetryExhaustedError) {
    last = error.lastError;
    if (error.reason === 'attempts') how = ` after ${error.attempts} attempts`;
    if (error.reason === 'deadline') {
      how = `; the next try (in ${Math.ceil((error.refusedDelayMs ?? 0) / 1000)} s) would pass the step's deadline`;
    }
  }
  if (last instanceof DeliveryError) return new DeliveryError(last.message, attempts);
  // Errors from the socket layer may come from another realm (a test's VM): read them by shape.
  if (!isErrorLike(last)) return new DeliveryError(`Email: ${server} failed${how}`, attempts);
  const e = last as NodemailerError;
  const reply =
    typeof e.responseCode === 'number' ? ` (${e.responseCode} ${scrub(e.response).replace(/^\d{3}[ -]/, '')})` : '';
  let text: string;
  if (e.code === 'EAUTH') {
    text = `${server} refused the login of ${JSON.stringify(config.username ?? '')}${reply}: check the username and password`;
  } else if (e.code === 'ENOAUTH') {
    text = `${server} wants a login: give a username and password`;
  } else if (e.code === 'EENVELOPE') {
    const rejected = (e.rejected ?? [])
      .filter((address) => typeof address === 'string')
      .map((address) => oneLine(address, 100));
    text =
      rejected.length > 0
        ? `${server} refused the recipient${rejected.length === 1 ? '' : 's'} ${rejected.join(', ')}${reply}: check the addresses`
        : `${server} refused the sender or the recipients${reply}: check the from and to addresses`;
  } else if (isTlsFailure(e)) {
    const code = codes(e).find((c) => TLS_CODES.test(c));
    if (/STARTTLS/i.test(e.message) || (e.code === 'ETLS' && code === undefined)) {
      text = `${server} did not offer STARTTLS, which security 'starttls' requires (nothing was sent in clear text): use 'tls' if the port expects TLS from the start, or a server that offers STARTTLS`;
    } else if (
      code !== undefined &&
      /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST)$/.test(code)
    ) {
      text = `${server} did not answer in TLS (${code}): security 'tls' is for a port that expects TLS from the start (usually 465); use 'starttls' for a port like 587`;
    } else {
      text = `could not verify the TLS certificate of ${server}${code === undefined ? '' : ` (${code})`}: give the CA certificate that signed it in the CA input, or fix the server's certificate`;
    }
  } else if (e.code === 'ETIMEDOUT') {
    const hint =
      config.security === 'tls' ? '' : ` (if the port expects TLS from the start, usually 465, use security 'tls')`;
    text = `${server} did not answer in time${e.timeoutType === undefined ? '' : ` (${e.timeoutType.toLowerCase().replace(/_/g, ' ')})`}${hint}`;
  } else if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'EDNS') {
    const cause = codes(e).find((c) => /^E[A-Z]+$/.test(c) && c !== e.code);
    text = `could not talk to ${server}${cause === undefined ? '' : ` (${cause})`}: check the host, the port and the security setting (tls for port 465, starttls for 587)`;
  } else if (typeof e.responseCode === 'number') {
    text = `${server} refused the mail${reply}`;
  } else {
    text = `${server} failed: ${scrub(e.message)}`;
  }
  return new DeliveryError(`Email: ${text}${how}`, attempts);
}

/** The mail: a subject line, a plain-text body and an HTML body with every user-typed string escaped. */
export function renderEmail(context: Pick<SendContext, 'message' | 'audience' | 'text'>): {
  subject: string;
  text: string;
  html: string;
} {
  const { message } = context;
  const rows = facts(message, context.audience);
  const links = allLinks(message);
  const details = context.audience === 'engineers' ? message.details : undefined;
  const lines = [context.text];
  if (hasText(message.title)) lines.push('', message.title);
  lines.push('', ...rows.map((row) => `${row.label}: ${row.value}`));
  if (hasText(details)) lines.push('', details);
  if (links.length > 0) lines.push('', ...links.map((link) => `${link.label}: ${link.url}`));

  const cell = 'padding:2px 12px 2px 0;text-align:left;vertical-align:top';
  const html = [
    '<!DOCTYPE html>',
    '<html><body style="font-family:sans-serif">',
    `<h2>${htmlText(context.text)}</h2>`,
    hasText(message.title) ? `<p>${multiline(message.title)}</p>` : '',
    '<table>',
    ...rows.map(
      (row) =>
        `<tr><th style="${cell}">${htmlText(row.label)}</th><td style="${cell}">${multiline(row.value)}</td></tr>`,
    ),
    '</table>',
    hasText(details) ? `<pre>${htmlText(details)}</pre>` : '',
    links.length > 0
      ? `<p>${links.map((link) => (isWebUrl(link.url) ? `<a href="${htmlText(link.url)}">${htmlText(link.label)}</a>` : htmlText(link.label))).join(' · ')}</p>`
      : '',
    '</body></html>',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return { subject: oneLine(context.text), text: `${lines.join('\n')}\n`, html };
}

function hasText(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function multiline(text: string): string {
  return htmlText(text).replace(/\r?\n|\r/g, '<br>');
}

function isWebUrl(url: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}
