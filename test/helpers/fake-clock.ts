import type { Clock } from '../../packages/kit/src/index.ts';

/** A clock that advances only when the code under test sleeps, so no test waits for real. */
export function fakeClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}
