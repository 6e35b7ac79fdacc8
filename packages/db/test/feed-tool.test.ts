import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { feedTool } from '../src/process.ts';

describe('feeding a tool', () => {
  it('stops the tool when the input failed before it was attached (a small damaged backup), instead of waiting forever', async () => {
    const input = new PassThrough();
    input.on('error', () => undefined);
    input.destroy(new Error('the plain dump does not match its SHA-256'));
    await new Promise((resolve) => setImmediate(resolve));
    const stdin = new PassThrough();
    let stopped = 0;
    feedTool(input, stdin, () => stopped++);
    expect(stopped).toBe(1);
    expect(stdin.writableEnded).toBe(true);
    expect(input.errored?.message).toMatch(/SHA-256/);
  });

  it('stops the tool when the input fails midway, and feeds it whole otherwise', async () => {
    const failing = new PassThrough();
    const sink = new PassThrough().resume();
    let stopped = 0;
    feedTool(failing, sink, () => stopped++);
    failing.write('part');
    failing.destroy(new Error('invalid tag'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(1);

    const chunks: Buffer[] = [];
    const stdin = new PassThrough();
    stdin.on('data', (c: Buffer) => chunks.push(c));
    feedTool(Readable.from([Buffer.from('a'), Buffer.from('b')]), stdin, () => stopped++);
    await new Promise((resolve) => stdin.on('end', resolve));
    expect(Buffer.concat(chunks).toString()).toBe('ab');
    expect(stopped).toBe(1);
  });
});
