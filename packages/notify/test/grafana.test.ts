import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGrafana, type FakeAnnotation } from '../../../test/fakes/grafana.ts';
import { fakeClock } from '../../../test/helpers/fake-clock.ts';
import { DeliveryError, digestOf } from '../src/channel.ts';
import { grafanaChannel, grafanaTags, grafanaText, type GrafanaConfig } from '../src/channels/grafana.ts';
import type { DeploymentMessage, Status } from '../src/message.ts';
import { newThread, type ThreadState } from '../src/thread.ts';
import { CHECKOUT_DEPLOYMENT, CHECKOUT_STARTED as STARTED, messageFactory, sendContext } from './support.ts';

const TITLE = 'Fix "checkout" `total`\nfor <!channel> @someone *now* & <script>alert(1)</script><b>bold</b>';
const AT: Partial<Record<Status, string>> = {
  started: '2026-11-27T10:00:00Z',
  switched: '2026-11-27T10:07:00Z',
  succeeded: '2026-11-27T10:12:30Z',
  failed: '2026-11-27T10:09:00Z',
};

const messageOf = messageFactory((status) => ({
  ...CHECKOUT_DEPLOYMENT,
  title: TITLE,
  links: [],
  at: AT[status] ?? '2026-11-27T10:05:00Z',
}));

let grafana: FakeGrafana;

beforeAll(async () => {
  grafana = await FakeGrafana.start();
});
afterAll(() => grafana.close());
beforeEach(() => grafana.reset());

function contextOf(message: DeploymentMessage, thread: ThreadState, clock?: ReturnType<typeof fakeClock>) {
  return sendContext(message, thread, { clock });
}

function config(extra: Partial<GrafanaConfig> = {}): GrafanaConfig {
  return { url: grafana.url, token: grafana.token, dashboardUid: 'deploys', ...extra };
}

async function stage(thread: ThreadState, status: Status, extra: Partial<GrafanaConfig> = {}) {
  const result = await grafanaChannel(config(extra)).send(contextOf(messageOf(status), thread));
  return { result, thread: { ...thread, grafana: result.state as ThreadState['grafana'] } };
}

function only(): FakeAnnotation {
  expect(grafana.annotations.size).toBe(1);
  return [...grafana.annotations.values()][0]!;
}

describe('one annotation per deployment', () => {
  it('created at the start, edited as stages pass, and closed into a region at the end', async () => {
    let thread = newThread('acme/service:production:1', STARTED);
    const started = await stage(thread, 'started');
    thread = started.thread;
    expect(started.result).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(grafana.requests[0]).toMatchObject({ method: 'POST', path: '/api/annotations' });
    expect(grafana.requests[0]!.headers.authorization).toBe(`Bearer ${grafana.token}`);
    let annotation = only();
    expect(annotation).toMatchObject({
      time: Date.parse(STARTED),
      timeEnd: Date.parse(STARTED),
      dashboardUID: 'deploys',
      tags: ['deploy-suite', 'service:checkout', 'environment:production', 'version:1.4.2'],
    });
    expect(annotation.text).toContain('Deployment of checkout 1.4.2 to production started');
    expect(thread.grafana).toMatchObject({ annotationId: annotation.id, closed: false, sent: ['started'] });

    const switched = await stage(thread, 'switched');
    thread = switched.thread;
    expect(switched.result.detail).toBe(`updated annotation ${annotation.id}`);
    expect(grafana.requests[1]).toMatchObject({ method: 'PATCH', path: `/api/annotations/${annotation.id}` });
    expect(JSON.parse(grafana.requests[1]!.body)).not.toHaveProperty('timeEnd');
    annotation = only();
    expect(annotation.text).toContain('switched');
    expect(annotation.timeEnd).toBe(annotation.time);

    const succeeded = await stage(thread, 'succeeded');
    thread = succeeded.thread;
    expect(succeeded.result.detail).toMatch(/closed annotation \d+ as a region \(succeeded\)/);
    annotation = only();
    expect(annotation.time).toBe(Date.parse(STARTED));
    expect(annotation.timeEnd).toBe(Date.parse(AT.succeeded!));
    expect(annotation.time).toBeLessThan(annotation.timeEnd);
    expect(annotation.tags).toContain('outcome:succeeded');
    expect(annotation.text).toContain('succeeded');
    expect(thread.grafana).toMatchObject({ closed: true, sent: ['started', 'switched', 'succeeded'] });

    // Dashboards find it by its tags, as an annotation query does.
    const query = new URL('/api/annotations?tags=deploy-suite&tags=service:checkout', grafana.url);
    const listed = (await (
      await fetch(query, { headers: { authorization: `Bearer ${grafana.token}` } })
    ).json()) as FakeAnnotation[];
    expect(listed.map((a) => a.id)).toEqual([annotation.id]);
  });

  it('a deployment first reported at its end is one region from the start of the thread', async () => {
    const { thread } = await stage(newThread('k-late', STARTED), 'failed');
    const annotation = only();
    expect(annotation.time).toBe(Date.parse(STARTED));
    expect(annotation.timeEnd).toBe(Date.parse(AT.failed!));
    expect(annotation.tags).toContain('outcome:failed');
    expect(thread.grafana?.closed).toBe(true);
  });

  it('the same stage sent twice makes no request', async () => {
    const first = await stage(newThread('k-twice', STARTED), 'started');
    const again = await stage(first.thread, 'started');
    expect(again.result).toMatchObject({ outcome: 'unchanged', attempts: 0 });
    expect(grafana.requests).toHaveLength(1);
  });

  it('a stage whose text is already shown makes no request', async () => {
    const first = await stage(newThread('k-same', STARTED), 'started');
    // A thread that recorded the annotation's text but not the stage (an older run's state).
    const thread = { ...first.thread, grafana: { ...first.thread.grafana!, sent: [] } };
    const again = await stage(thread, 'started');
    expect(again.result.outcome).toBe('unchanged');
    expect(again.result.detail).toMatch(/already says this/);
    expect(grafana.requests).toHaveLength(1);
  });

  it('an annotation deleted in Grafana is made again from the thread start, and the detail says so', async () => {
    const first = await stage(newThread('k-deleted', STARTED), 'started');
    grafana.annotations.clear();
    const next = await stage(first.thread, 'succeeded');
    expect(next.result.detail).toMatch(/was gone \(deleted in Grafana\); created annotation \d+ in its place/);
    const annotation = only();
    expect(annotation.id).not.toBe(first.thread.grafana!.annotationId);
    expect(next.thread.grafana).toMatchObject({ annotationId: annotation.id, closed: true });
    expect(annotation.time).toBeLessThan(annotation.timeEnd);
  });
});

describe('text', () => {
  it('a title with quotes, newlines, mentions and HTML shows as typed, never as markup', async () => {
    await stage(newThread('k-title', STARTED), 'started');
    const { text } = only();
    expect(text).toContain('Fix &quot;checkout&quot; `total` for &lt;!channel&gt; @someone *now* &amp; &lt;script&gt;');
    expect(text).not.toMatch(/<script|<b>|<!channel>/);
    expect(text).toContain('<a href="https://github.test/acme/service/actions/runs/7">Workflow run</a>');
  });

  it('tags and text are stable for the same message', () => {
    const thread = newThread('k', STARTED);
    const a = grafanaText(contextOf(messageOf('started'), thread));
    expect(grafanaText(contextOf(messageOf('started'), thread))).toBe(a);
    expect(digestOf(grafanaTags(messageOf('succeeded'), true))).not.toBe(digestOf(grafanaTags(messageOf('succeeded'))));
  });
});

describe('failures', () => {
  it('a refused token fails at once with a hint, and the token appears nowhere', async () => {
    const error = await stage(newThread('k-401', STARTED), 'started', { token: 'glsa_wrongToken_secret_value' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/Grafana refused the token \(HTTP 401\)/);
    expect((error as Error).message).not.toContain('glsa_');
    expect(grafana.requests).toHaveLength(1);
  });

  it('a read-only token is told which permission it lacks', async () => {
    grafana.readOnlyTokens.add('glsa_viewer');
    await expect(stage(newThread('k-403', STARTED), 'started', { token: 'glsa_viewer' })).rejects.toThrow(
      /annotations:write/,
    );
  });

  it('an unknown dashboard is named as the cause', async () => {
    await expect(stage(newThread('k-404', STARTED), 'started', { dashboardUid: 'nope' })).rejects.toThrow(
      /dashboard UID was not found/,
    );
  });

  it('a 503 with Retry-After is waited out', async () => {
    grafana.fail(503, 1, 1);
    const clock = fakeClock();
    const result = await grafanaChannel(config()).send(
      contextOf(messageOf('started'), newThread('k-503', STARTED), clock),
    );
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 });
    expect(clock.sleeps).toEqual([1000]);
    only();
  });

  it('a 500 on creating the annotation is not tried again (it may have been made), and says so', async () => {
    grafana.fail(500, 10);
    const error = await stage(newThread('k-500', STARTED), 'started').catch((e: unknown) => e);
    grafana.reset();
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).attempts).toBe(1);
    expect((error as Error).message).toMatch(/^Grafana failed: HTTP 500; not tried again: it may have been made/);
    expect((error as Error).message).not.toContain(grafana.token);
    expect(grafana.annotations.size).toBe(0);
  });
});
