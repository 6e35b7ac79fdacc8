import { describe, expect, it } from '@jest/globals';
import { expandWindow, parseJsonPath, promqlSyntaxError, readJsonPath, statusRanges } from '../src/index.ts';

describe('JSON paths', () => {
  const document = { status: 'ok', data: { items: [{ id: 7 }, { id: 9 }] }, 'odd.key': true };

  it.each([
    ['status', 'ok'],
    ['$.status', 'ok'],
    ['data.items[1].id', 9],
    ['$.data.items[0]', { id: 7 }],
    ['["odd.key"]', true],
  ])('reads %s', (path, value) => expect(readJsonPath(document, path)).toEqual({ found: true, value }));

  it.each(['data.items[5].id', 'status.length', 'missing'])('reports %s as missing', (path) =>
    expect(readJsonPath(document, path).found).toBe(false),
  );

  it.each(['a..b', 'a.', '[x]'])('rejects the malformed path %s', (path) =>
    expect(parseJsonPath(path)).toBeUndefined(),
  );
});

describe('status expectations', () => {
  it('turns codes, ranges and classes into ranges', () => {
    expect(statusRanges(undefined)).toEqual([[200, 299]]);
    expect(statusRanges([200, '301-302', '5xx'])).toEqual([
      [200, 200],
      [301, 302],
      [500, 599],
    ]);
  });
});

describe('PromQL syntax', () => {
  it.each([
    'up',
    'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
  ])('accepts %s', (query) => expect(promqlSyntaxError(query)).toBeUndefined());

  it.each(['sum(rate(x[5m]) /', 'rate(x[5m)', 'sum by (le (x)', '{', ''])('rejects %j', (query) =>
    expect(promqlSyntaxError(query)).toBeDefined(),
  );

  it('expands $window and ${window}', () => {
    expect(expandWindow('rate(a[$window]) + rate(b[${window}])', '10m')).toBe('rate(a[10m]) + rate(b[10m])');
  });
});
