import { parser } from '@prometheus-io/lezer-promql';

/**
 * Checks PromQL syntax with Prometheus's own grammar (the one its web UI uses), so a typo
 * fails as bad input before any query is sent. Returns a description of the first error.
 */
export function promqlSyntaxError(query: string): string | undefined {
  if (query.trim() === '') return 'the query is empty';
  const tree = parser.parse(query);
  let error: string | undefined;
  tree.iterate({
    enter: (node) => {
      if (error !== undefined) return false;
      if (node.type.isError) {
        const near = query.slice(node.from, Math.max(node.to, node.from + 10)).trim();
        error = `syntax error at character ${node.from + 1}${near ? ` near "${near}"` : ''}`;
        return false;
      }
      return undefined;
    },
  });
  return error;
}

/** Replaces $window / ${window} in a query with the configured range, e.g. 5m. */
export function expandWindow(query: string, window: string): string {
  return query.replace(/\$\{window\}|\$window\b/g, window);
}
