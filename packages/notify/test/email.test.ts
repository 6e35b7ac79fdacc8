import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { TestSmtpServer, type SmtpServerOptions } from '../../../test/helpers/smtp.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls.ts';
import { emailChannel, emailSecurityProblem, type EmailConfig } from '../src/channels/email.ts';
import { failure, giftCardDeployment, messageFactory, ThreadRunner } from './support.ts';

const HOSTILE =
  'Fix "quotes" & <b>html</b>\nsecond line `code` *bold* <!channel> <@U123> @here <script>alert(1)</script>';
const USER = 'deploy-bot';
const PASSWORD = 'smtp-Pa55word-secret';
const RECIPIENTS = ['ops@example.test', 'product@example.test', 'cto@example.test'];

const message = messageFactory((status) => ({
  ...giftCardDeployment(status),
  links: [{ label: 'Change request', url: 'https://github.com/acme/shop/issues/7?a=1&b=2' }],
}));

/** SMTP timeouts come from the deadline: the fake clock starts at 0, so 20 s of real time. */
class Thread extends ThreadRunner {
  constructor() {
    super({ deadlineIn: 20_000 });
  }
}

const servers: TestSmtpServer[] = [];
async function smtp(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const server = await TestSmtpServer.start(options);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function config(server: TestSmtpServer, overrides: Partial<EmailConfig> = {}): EmailConfig {
  return {
    host: server.host,
    port: server.port,
    security: 'starttls',
    username: USER,
    password: PASSWORD,
    ca: server.ca,
    from: 'Deployments <deploy@example.test>',
    to: RECIPIENTS,
    ...overrides,
  };
}

describe('email over SMTP', () => {
  it('mails every recipient over STARTTLS, logged in, with a text and an HTML body', async () => {
    const server = await smtp({ auth: { username: USER, password: PASSWORD } });
    const thread = new Thread();
    const result = await thread.send(emailChannel(config(server)), message('started'));
    expect(result).toMatchObject({ outcome: 'delivered', detail: 'mailed "started" to 3 recipients', attempts: 1 });
    expect(server.received).toHaveLength(1);
    const [mail] = server.received;
    expect(mail).toMatchObject({
      from: 'deploy@example.test',
      to: RECIPIENTS,
      headerTo: RECIPIENTS,
      secure: true,
      user: USER,
    });
    expect(mail!.subject).toBe('Deployment of shop v1.4.2 to production started');
    expect(mail!.text).toContain('Add the gift card checkout');
    expect(mail!.text).toContain('Environment: production');
    expect(mail!.text).toContain('Change request: https://github.com/acme/shop/issues/7?a=1&b=2');
    expect(mail!.html).toContain('<th style="padding:2px 12px 2px 0;text-align:left;vertical-align:top">Service</th>');
    expect(mail!.html).toContain('<a href="https://github.com/acme/shop/issues/7?a=1&amp;b=2">Change request</a>');
    expect(mail!.headers.get('auto-submitted')).toBe('auto-generated');
    expect(thread.state.email).toEqual({
      sent: ['started'],
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      messageId: mail!.messageId,
    });
  });

  it('threads later stages under the first mail and sends nothing for a stage already sent', async () => {
    const server = await smtp({ auth: { username: USER, password: PASSWORD } });
    const thread = new Thread();
    const channel = emailChannel(config(server));
    for (const stage of ['started', 'approved', 'succeeded'] as const) await thread.send(channel, message(stage));
    const again = await thread.send(channel, message('succeeded'));
    expect(again.outcome).toBe('unchanged');
    expect(server.received).toHaveLength(3);
    const [first, ...later] = server.received;
    expect(first!.inReplyTo).toBeUndefined();
    expect(first!.messageId).toMatch(/^<.+@.+>$/);
    for (const mail of later) {
      expect(mail.inReplyTo).toBe(first!.messageId);
      expect(mail.references).toEqual([first!.messageId]);
      expect(mail.messageId).not.toBe(first!.messageId);
    }
    expect(thread.state.email).toMatchObject({
      sent: ['started', 'approved', 'succeeded'],
      messageId: first!.messageId,
    });
  });

  it('delivers a hostile PR title intact as text and inert as HTML, on a one-line subject', async () => {
    const server = await smtp();
    const thread = new Thread();
    thread.audience = 'engineers';
    const hostile = message('started', { title: HOSTILE, details: HOSTILE, version: 'v1\r\nBcc: victim@example.test' });
    await thread.send(emailChannel(config(server, { username: undefined, password: undefined })), hostile);
    const [mail] = server.received;
    expect(mail!.to).toEqual(RECIPIENTS);
    expect(mail!.subject).toBe('Deployment of shop v1 Bcc: victim@example.test to production started');
    expect(mail!.headers.has('bcc')).toBe(false);
    expect(mail!.text).toContain(HOSTILE);
    expect(mail!.html).not.toContain('<b>html</b>');
    expect(mail!.html).not.toContain('<script>');
    expect(mail!.html).toContain('Fix &quot;quotes&quot; &amp; &lt;b&gt;html&lt;/b&gt;<br>second line');
  });

  it('refuses a server whose certificate the given CA did not sign, sending nothing', async () => {
    const server = await smtp({ auth: { username: USER, password: PASSWORD } });
    const thread = new Thread();
    const error = await failure(
      thread.send(emailChannel(config(server, { ca: selfSignedCertificate().cert })), message('started')),
    );
    expect(error.message).toMatch(
      /^Email: could not verify the TLS certificate of SMTP server 127\.0\.0\.1:\d+ \(.+\): give the CA certificate/,
    );
    expect(error.attempts).toBe(1);
    expect(server.received).toEqual([]);
    expect(server.logins).toEqual([]);
  });

  it('requires STARTTLS: a server that does not offer it gets no password and no mail', async () => {
    const server = await smtp({ tls: 'none', auth: { username: USER, password: PASSWORD } });
    const error = await failure(new Thread().send(emailChannel(config(server)), message('started')));
    expect(error.message).toMatch(/did not offer STARTTLS, which security 'starttls' requires/);
    expect(server.logins).toEqual([]);
    expect(server.received).toEqual([]);
  });

  it('speaks TLS from the first byte for security tls', async () => {
    const server = await smtp({ tls: 'implicit', auth: { username: USER, password: PASSWORD } });
    await new Thread().send(emailChannel(config(server, { security: 'tls' })), message('started'));
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.secure).toBe(true);
  });

  it("says so when security 'tls' meets a port that expects STARTTLS", async () => {
    const server = await smtp();
    const error = await failure(
      new Thread().send(emailChannel(config(server, { security: 'tls' })), message('started')),
    );
    expect(error.message).toMatch(
      /did not answer in TLS \(ERR_SSL_WRONG_VERSION_NUMBER\): security 'tls' is for a port that expects TLS from the start/,
    );
    expect(error.attempts).toBe(1);
  });

  it('names a refused login without the password', async () => {
    const server = await smtp({ auth: { username: USER, password: 'the-right-one' } });
    const error = await failure(new Thread().send(emailChannel(config(server)), message('started')));
    expect(error.message).toMatch(
      /^Email: SMTP server 127\.0\.0\.1:\d+ refused the login of "deploy-bot" \(535 .*\): check the username and password$/,
    );
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64'));
    expect(server.logins).toEqual([{ username: USER, ok: false }]);
  });

  it('names a refused recipient: in the detail when the others got the mail, as the failure when nobody did', async () => {
    const server = await smtp({ rejectRecipients: ['gone@example.test', 'left@example.test'] });
    const thread = new Thread();
    const partly = await thread.send(
      emailChannel(
        config(server, { username: undefined, password: undefined, to: ['ops@example.test', 'gone@example.test'] }),
      ),
      message('started'),
    );
    expect(partly.detail).toBe('mailed "started" to 1 recipient (the server refused gone@example.test)');
    expect(thread.logs).toEqual(['email: the SMTP server refused gone@example.test']);
    expect(server.received.map((mail) => mail.to)).toEqual([['ops@example.test']]);

    const error = await failure(
      new Thread().send(
        emailChannel(config(server, { username: undefined, password: undefined, to: ['left@example.test'] })),
        message('started'),
      ),
    );
    expect(error.message).toMatch(
      /refused the recipient left@example\.test \(550 .*User unknown\): check the addresses$/,
    );
  });

  it('gives up on a server that is not there after a bounded number of attempts', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const thread = new Thread();
    const error = await failure(
      thread.send(
        emailChannel({ host: '127.0.0.1', port, security: 'starttls', from: 'deploy@example.test', to: RECIPIENTS }),
        message('started'),
      ),
    );
    expect(error.message).toMatch(
      /could not talk to SMTP server 127\.0\.0\.1:\d+ \(ECONNREFUSED\).* after 3 attempts$/,
    );
    expect(error.attempts).toBe(3);
    expect(thread.clock.sleeps).toHaveLength(2);
  });

  it("allows security 'none' only on loopback", async () => {
    expect(emailSecurityProblem('smtp.example.com', 'none')).toMatch(/allowed only for a server on loopback/);
    expect(emailSecurityProblem('10.0.0.5', 'none')).toMatch(/unencrypted/);
    expect(emailSecurityProblem('smtp.example.com', 'starttls')).toBeUndefined();
    expect(emailSecurityProblem('smtp.example.com', 'ssl')).toMatch(/must be one of tls, starttls, none/);
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(emailSecurityProblem(host, 'none')).toBeUndefined();

    const server = await smtp({ tls: 'none' });
    const result = await new Thread().send(
      emailChannel(config(server, { security: 'none', username: undefined, password: undefined })),
      message('started'),
    );
    expect(result.outcome).toBe('delivered');
    expect(server.received[0]!.secure).toBe(false);
    const error = await failure(
      new Thread().send(
        emailChannel({ ...config(server), host: 'smtp.example.com', security: 'none' }),
        message('started'),
      ),
    );
    expect(error.message).toMatch(/only for a server on loopback/);
  });
});
