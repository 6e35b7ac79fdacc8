import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { readBounded, StoreError, type BackupStore } from './store.ts';

/** A folder. Objects are written beside their final name and renamed into place when complete. */
export class LocalStore implements BackupStore {
  readonly location: string;
  readonly readBack = 'sha256' as const;
  private readonly root: string;
  private realRoot: string | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = `file://${this.root}`;
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new Error(`key escapes the store: ${key}`);
    return path;
  }

  async upload(key: string, body: Readable): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial-${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /**
   * The real path of an existing object. Whoever can write to the folder can plant a link: a key
   * that leads outside the store (a link to the runner's files) or to anything but a regular file
   * (a FIFO would block, a device never end) is refused, so no outside file is read, sized or hashed.
   */
  private async existing(key: string): Promise<string> {
    const real = await realpath(this.path(key));
    this.realRoot ??= await realpath(this.root);
    if (!real.startsWith(this.realRoot + sep))
      throw new StoreError(`${key} in ${this.location} leads outside the store`);
    if (!(await stat(real)).isFile()) throw new StoreError(`${key} in ${this.location} is not a regular file`);
    return real;
  }

  async download(key: string, maxBytes?: number): Promise<Readable> {
    // O_NOFOLLOW: a link swapped in after the check is refused at open.
    const handle = await open(await this.existing(key), constants.O_RDONLY | constants.O_NOFOLLOW);
    return handle.createReadStream(maxBytes === undefined ? {} : { end: maxBytes });
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(await this.existing(key))).size;
    } catch {
      return undefined;
    }
  }

  async readText(key: string, maxBytes: number): Promise<string | undefined> {
    let stream;
    try {
      stream = await this.download(key, maxBytes);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
    return (await readBounded(stream, maxBytes, key)).toString('utf8');
  }

  async writeText(key: string, text: string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial-${randomBytes(4).toString('hex')}`;
    await writeFile(partial, text, { mode: 0o600 });
    await rename(partial, path);
  }

  async list(prefix: string): Promise<string[]> {
    const start = this.path(prefix);
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else keys.push(relative(this.root, full).split(sep).join('/'));
      }
    };
    await walk(start);
    return keys.sort();
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  urlOf(key: string): string {
    return `file://${this.path(key)}`;
  }
}
