import { ConfigurationError, RemoteError } from '@deploy-suite/kit';

/**
 * pgBackRest (or the restored PostgreSQL it started) failed: an expected failure of a tool the
 * action drives, reported without a stack. `code` is pgBackRest's own error number when it gave
 * one (`ERROR: [029]: …`), `command` the pgBackRest command that failed.
 */
export class PgBackRestError extends RemoteError {
  override name = 'PgBackRestError';
  readonly command: string;
  readonly code: number | undefined;
  constructor(command: string, message: string, code?: number) {
    super(message);
    this.command = command;
    this.code = code;
  }
}

/** The pgbackrest binary is not installed (or not on PATH). */
export class PgBackRestMissingError extends ConfigurationError {
  override name = 'PgBackRestMissingError';
}

/** The repository passphrase does not decrypt the repository's info files. */
export class WrongPassphraseError extends PgBackRestError {
  override name = 'WrongPassphraseError';
}

/** A restore target that cannot be reached: in the future, before the oldest backup, past the archive. */
export class RestoreTargetError extends ConfigurationError {
  override name = 'RestoreTargetError';
}

/** The WAL archive misses a segment: recovery cannot pass it. */
export class ArchiveGapError extends ConfigurationError {
  override name = 'ArchiveGapError';
  readonly missingSegment: string;
  constructor(message: string, missingSegment: string) {
    super(message);
    this.missingSegment = missingSegment;
  }
}
