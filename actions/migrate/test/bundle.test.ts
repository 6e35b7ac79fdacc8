import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '../../../test/helpers/run-action.ts';

describe('the migrate bundle', () => {
  it('carries neither the dump engines nor tar: migrate only migrates', () => {
    const dist = join(repoRoot, 'actions/migrate/dist');
    const code = readdirSync(dist)
      .filter((name) => name.endsWith('.js'))
      .map((name) => readFileSync(join(dist, name), 'utf8'))
      .join('\n');
    expect(code).toContain('deploy_suite_schema_history');
    // TAR_BAD_ARCHIVE is node-tar's own error code; the class names survive minification.
    for (const marker of ['TAR_BAD_ARCHIVE', 'PostgresEngine', 'MySqlEngine']) expect(code).not.toContain(marker);
  });
});
