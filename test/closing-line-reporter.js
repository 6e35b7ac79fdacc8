import process from 'node:process';

// Prints one plain closing line that any CI can read: "tests: N passed, N failed, N skipped".
export default class ClosingLineReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped } = results;
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
