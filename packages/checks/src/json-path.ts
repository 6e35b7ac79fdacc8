/**
 * Reads a value at a simple path: "status", "$.data.items[0].id", "checks[1].name".
 * Returns { found: false } when any step is missing.
 */
export function readJsonPath(document: unknown, path: string): { found: boolean; value?: unknown } {
  const steps = parseJsonPath(path);
  if (steps === undefined) return { found: false };
  let current: unknown = document;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return { found: false };
    if (typeof step === 'number') {
      if (!Array.isArray(current) || step >= current.length) return { found: false };
      current = current[step];
    } else {
      if (!Object.hasOwn(current, step)) return { found: false };
      current = (current as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: current };
}

/** Steps of a path, or undefined when the path is not of the supported form. */
export function parseJsonPath(path: string): (string | number)[] | undefined {
  const text = path.trim().replace(/^\$\.?/, '');
  if (text === '') return [];
  const steps: (string | number)[] = [];
  const pattern = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]|(\.)/gy;
  let expectName = true;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[1] !== undefined) {
      if (!expectName) return undefined;
      steps.push(match[1]);
      expectName = false;
    } else if (match[2] !== undefined) {
      steps.push(Number(match[2]));
      expectName = false;
    } else if (match[3] !== undefined) {
      steps.push(match[3]);
      expectName = false;
    } else {
      if (expectName) return undefined; // "a..b" or a leading dot
      expectName = true;
    }
    if (pattern.lastIndex === text.length) return expectName ? undefined : steps;
  }
  return undefined;
}
