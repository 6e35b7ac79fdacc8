/**
 * WAL segment names: 8 hex digits of timeline, then the segment number split into a high and a
 * low 8-digit part; with the default 16 MiB segments the low part runs 00000000 to 000000FF.
 */

export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;

export interface SegmentName {
  timeline: number;
  /** The segment's number within its timeline: high * segmentsPerId + low. */
  number: bigint;
}

export function parseSegment(name: string, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): SegmentName {
  if (!/^[0-9A-F]{24}$/.test(name)) throw new Error(`not a WAL segment name: ${name.slice(0, 40)}`);
  const perId = 0x1_0000_0000n / BigInt(segmentSize);
  return {
    timeline: parseInt(name.slice(0, 8), 16),
    number: BigInt(`0x${name.slice(8, 16)}`) * perId + BigInt(`0x${name.slice(16, 24)}`),
  };
}

export function segmentName(timeline: number, number: bigint, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): string {
  const perId = 0x1_0000_0000n / BigInt(segmentSize);
  const hex = (value: bigint | number) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(number / perId)}${hex(number % perId)}`;
}

export interface ArchiveGap {
  /** The first segment missing. */
  missing: string;
  /** The segment present just before it, and the next one present after it. */
  after: string;
  before: string;
}

/**
 * The first gap in `segments` (sorted names) on one timeline, counted from `from` (a segment that
 * must be present, such as the oldest backup's first WAL segment) to the newest segment listed.
 * When `from` itself is missing, it is the gap.
 */
export function findGap(
  segments: string[],
  timeline: number,
  from: string | undefined,
  segmentSize = DEFAULT_WAL_SEGMENT_SIZE,
): ArchiveGap | undefined {
  const numbers = segments
    .map((name) => ({ name, ...parseSegment(name, segmentSize) }))
    .filter((s) => s.timeline === timeline)
    .sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  const start = from === undefined ? undefined : parseSegment(from, segmentSize);
  const relevant =
    start === undefined || start.timeline !== timeline ? numbers : numbers.filter((s) => s.number >= start.number);
  if (start !== undefined && start.timeline === timeline && relevant[0]?.number !== start.number) {
    const next = relevant[0];
    return { missing: from!, after: '(none)', before: next?.name ?? '(none)' };
  }
  for (let i = 1; i < relevant.length; i++) {
    const previous = relevant[i - 1]!;
    const current = relevant[i]!;
    if (current.number !== previous.number + 1n) {
      return {
        missing: segmentName(timeline, previous.number + 1n, segmentSize),
        after: previous.name,
        before: current.name,
      };
    }
  }
  return undefined;
}
