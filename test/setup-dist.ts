// Jest globalSetup: the runner-faithful tests spawn actions/<name>/dist/index.js, so a bundle
// older than its sources would test old code. Rebuild those first, under the dist lock.
import { rebuildStale } from '../scripts/stale-dist.ts';

export default function setup(): void {
  const started = performance.now();
  const rebuilt = rebuildStale();
  if (rebuilt.length > 0)
    console.log(`\nrebuilt ${rebuilt.join(', ')} before testing (${Math.round(performance.now() - started)} ms)`);
}
