// Preloaded into an action's process (NODE_OPTIONS=--import) to move its clock: Date reads the
// real time shifted so that the process starts at FAKE_NOW, and time then runs at its normal
// pace. Timers are untouched, so an action that sleeps until a time sleeps for real.
const target = Date.parse(process.env.FAKE_NOW ?? '');
if (Number.isFinite(target)) {
  const RealDate = Date;
  const offset = target - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
