import * as core from '@actions/core';
import { ConfigurationError, errorMessage } from './errors.ts';
import { redact } from './secrets.ts';
import type { JobSummary } from './summary.ts';

/**
 * The one error boundary of an action entry point. A ConfigurationError fails the step with
 * its message alone; anything else is a bug and also prints its stack for the report.
 * A non-Error throw still fails. The job summary is written in `finally`, whatever happened.
 */
export async function runAction(main: (summary: JobSummary) => Promise<void>, summary: JobSummary): Promise<void> {
  try {
    await main(summary);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      core.setFailed(redact(error.message));
    } else {
      if (error instanceof Error && error.stack) core.debug(redact(error.stack));
      core.error(redact(`Unexpected failure (a bug in this action; please report it): ${errorMessage(error)}`));
      if (error instanceof Error && error.stack) core.info(redact(error.stack));
      core.setFailed(redact(errorMessage(error)));
    }
  } finally {
    try {
      summary.write();
    } catch (error) {
      core.warning(`Could not write the job summary: ${errorMessage(error)}`);
    }
  }
}

/** A warning annotation, redacted: for the domain packages, which do not talk to the runner. */
export function warning(message: string): void {
  core.warning(redact(message));
}

/** Sets an output; objects become JSON so another step can use fromJSON(). */
export function setOutput(name: string, value: string | number | boolean | object): void {
  core.setOutput(name, redact(typeof value === 'object' ? JSON.stringify(value) : String(value)));
}
