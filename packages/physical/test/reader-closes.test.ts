// tar may exit once it has read an archive's end and leave the padding after it unread: the
// restore's sink takes the rest instead of failing the restore with a premature close.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from '@jest/globals';
import { untilReaderCloses } from '../src/mariadb/restore.ts';

/** A reader that takes 512 bytes and exits, as tar does at an archive's end. */
function shortReader() {
  const child = spawn('head', ['-c', '512'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { stdin: child.stdin, exited };
}

const fourMegabytes = () =>
  Readable.from(
    (function* () {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(65_536, i);
    })(),
  );

describe('a reader that stops early', () => {
  it('fails a plain pipeline with a premature close or a broken pipe', async () => {
    const reader = shortReader();
    await expect(pipeline(fourMegabytes(), reader.stdin)).rejects.toThrow(/premature close|EPIPE/i);
    expect(await reader.exited).toBe(0);
  });

  it('through untilReaderCloses, every byte is still read and the pipeline ends cleanly', async () => {
    const reader = shortReader();
    let bytes = 0;
    const source = fourMegabytes();
    source.on('data', (chunk: Buffer) => (bytes += chunk.length));
    await pipeline(source, untilReaderCloses(reader.stdin));
    expect(await reader.exited).toBe(0);
    expect(bytes).toBe(64 * 65_536);
  });
});
