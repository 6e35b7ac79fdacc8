import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error -- s3rver ships no types
import S3rver from 's3rver';
import { repoRoot } from './run-action.ts';
import { freePort } from './ports.ts';

export interface RunningS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  directory: string;
  stop: () => Promise<void>;
}

/** s3rver on a free loopback port with one bucket; its files are on disk under `directory`. */
export async function startS3(bucket = 'backups'): Promise<RunningS3> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const port = await freePort();
  const server = new S3rver({
    port,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  }) as {
    run: () => Promise<unknown>;
    close: () => Promise<void>;
  };
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    directory,
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface RunningAzurite {
  connectionString: string;
  accountKey: string;
  stop: () => Promise<void>;
}

const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's blob service (from npm) on a free loopback port, with the well-known development account. */
export async function startAzurite(): Promise<RunningAzurite> {
  const location = mkdtempSync(join(tmpdir(), 'azurite-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      location,
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite exited: ${output}`);
    try {
      await fetch(`http://127.0.0.1:${port}/devstoreaccount1?comp=list`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`azurite did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    accountKey: AZURITE_KEY,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Azurite waits for idle keep-alive connections on SIGTERM; it keeps nothing worth a clean stop.
      child.kill('SIGKILL');
      await exited;
      rmSync(location, { recursive: true, force: true });
    },
  };
}
