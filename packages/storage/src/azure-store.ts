import type { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { readBounded, type BackupStore } from './store.ts';

export interface AzureStoreOptions {
  connectionString: string;
  container: string;
  prefix: string;
}

/**
 * Azure Blob block blobs. Blocks are staged and committed only when the whole stream is in, so a
 * failed upload leaves no blob (uncommitted blocks are discarded by the service).
 */
export class AzureBlobStore implements BackupStore {
  readonly location: string;
  readonly readBack = 'size' as const;
  private readonly container: ContainerClient;
  private readonly prefix: string;
  private readonly containerUrl: string;

  constructor(options: AzureStoreOptions) {
    this.container = BlobServiceClient.fromConnectionString(options.connectionString).getContainerClient(
      options.container,
    );
    this.prefix = options.prefix.replace(/\/$/, '');
    this.location = `azure://${options.container}/${this.prefix}`;
    // A SAS connection string puts the signature in the client's URL query: never show it.
    const url = new URL(this.container.url);
    this.containerUrl = `${url.origin}${url.pathname.replace(/\/$/, '')}`;
  }

  private key(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  async upload(key: string, body: Readable): Promise<void> {
    await this.container.createIfNotExists();
    await this.container.getBlockBlobClient(this.key(key)).uploadStream(body, 8 * 1024 * 1024, 4);
  }

  async download(key: string, maxBytes?: number): Promise<Readable> {
    const response = await this.container
      .getBlobClient(this.key(key))
      .download(0, maxBytes === undefined ? undefined : maxBytes + 1);
    return response.readableStreamBody as Readable;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await this.container.getBlobClient(this.key(key)).getProperties()).contentLength;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async readText(key: string, maxBytes: number): Promise<string | undefined> {
    let body: Readable;
    try {
      body = await this.download(key, maxBytes);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
    return (await readBounded(body, maxBytes, key)).toString('utf8');
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.container.createIfNotExists();
    await this.container.getBlockBlobClient(this.key(key)).upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix: this.key(prefix) })) {
        keys.push(this.prefix === '' ? blob.name : blob.name.slice(this.prefix.length + 1));
      }
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return [];
      throw error;
    }
    return keys.sort();
  }

  async remove(key: string): Promise<void> {
    await this.container.getBlobClient(this.key(key)).deleteIfExists();
  }

  urlOf(key: string): string {
    return `${this.containerUrl}/${this.key(key)}`;
  }
}
