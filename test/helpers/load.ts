import http from 'node:http';

export interface LoadResult {
  requests: number;
  /** Requests that got no answer even after the one retry a browser makes (see below). */
  failed: number;
  non2xx: number;
  /** Requests retried once because a kept-alive connection closed as they were sent. */
  retried: number;
  latenciesMs: number[];
  /** Why each failed request failed, for the test's message. */
  errors: string[];
}

/**
 * A steady, bounded load the way real HTTP clients send it: `connections` kept-alive sockets,
 * `rate` requests a second in all, for `durationMs`. A GET sent on a reused connection that the
 * server closed at that very moment (nginx's old workers close idle connections on a reload) is
 * retried once on a new connection, as browsers retry idempotent requests (RFC 9110 §9.2.2); it
 * counts as failed only when the retry fails too. (autocannon counts such a request as an
 * error: it keeps sending on a connection the server has announced it is closing.)
 */
export async function steadyLoad(
  url: string,
  options: { rate: number; connections: number; durationMs: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const result: LoadResult = { requests: 0, failed: 0, non2xx: 0, retried: 0, latenciesMs: [], errors: [] };
  const perConnectionGapMs = (1000 * options.connections) / options.rate;
  const end = performance.now() + options.durationMs;

  const get = (fresh = false): Promise<{ status?: number; reused: boolean; error?: string }> =>
    new Promise((resolve) => {
      // A retry goes on a new connection, as a browser's does: the other idle ones may be closing too.
      const request = http.get(url, { agent: fresh ? false : agent, timeout: 10_000 }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, reused: request.reusedSocket }));
        response.on('error', (error) => resolve({ reused: request.reusedSocket, error: error.message }));
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) => resolve({ reused: request.reusedSocket, error: error.message }));
    });

  await Promise.all(
    Array.from({ length: options.connections }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, (index * perConnectionGapMs) / options.connections));
      while (performance.now() < end) {
        const started = performance.now();
        result.requests++;
        let answer = await get();
        if (answer.error !== undefined && answer.reused) {
          result.retried++;
          answer = await get(true);
        }
        if (answer.error !== undefined) {
          result.failed++;
          result.errors.push(`${answer.error} (${answer.reused ? 'reused' : 'new'} connection)`);
        } else if (answer.status! < 200 || answer.status! > 299) result.non2xx++;
        else result.latenciesMs.push(performance.now() - started);
        const wait = perConnectionGapMs - (performance.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }),
  );
  agent.destroy();
  return result;
}
