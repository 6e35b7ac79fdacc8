import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { readBounded, type BackupStore } from './store.ts';

export interface S3StoreOptions {
  bucket: string;
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, Ceph, R2…); path-style addressing is then used. */
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  serverSideEncryption?: ServerSideEncryption;
  kmsKeyId?: string;
  /** Multipart part size in bytes (≥ 5 MiB). */
  partSize?: number;
}

/** S3 through the AWS SDK v3: streamed multipart uploads, aborted on failure so no part is left. */
export class S3Store implements BackupStore {
  readonly location: string;
  readonly readBack = 'size' as const;
  private readonly client: S3Client;
  private readonly options: S3StoreOptions;

  constructor(options: S3StoreOptions) {
    this.options = options;
    this.location = `s3://${options.bucket}/${options.prefix}`;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      maxAttempts: 3,
      // A store that accepts the connection and then says nothing must not hold the step until
      // its timeout: 15 s to connect, and a socket idle for 30 s is closed (a long transfer that
      // keeps moving is never cut).
      requestHandler: { connectionTimeout: 15_000, socketTimeout: 30_000 },
    });
  }

  private key(key: string): string {
    return this.options.prefix === '' ? key : `${this.options.prefix.replace(/\/$/, '')}/${key}`;
  }

  private encryption(): { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
    return {
      ...(this.options.serverSideEncryption === undefined
        ? {}
        : { ServerSideEncryption: this.options.serverSideEncryption }),
      ...(this.options.kmsKeyId === undefined ? {} : { SSEKMSKeyId: this.options.kmsKeyId }),
    };
  }

  async upload(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.key(key), Body: body, ...this.encryption() },
      partSize: this.options.partSize ?? 16 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    body.on('error', () => void upload.abort().catch(() => undefined));
    await upload.done();
  }

  async download(key: string, maxBytes?: number): Promise<Readable> {
    const result = await this.client.send(
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(key),
        ...(maxBytes === undefined ? {} : { Range: `bytes=0-${maxBytes}` }),
      }),
    );
    return result.Body as Readable;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return head.ContentLength;
    } catch (error) {
      if (
        (error as { name?: string }).name === 'NotFound' ||
        (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      ) {
        return undefined;
      }
      throw error;
    }
  }

  async readText(key: string, maxBytes: number): Promise<string | undefined> {
    let body: Readable;
    try {
      body = await this.download(key, maxBytes);
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
    return (await readBounded(body, maxBytes, key)).toString('utf8');
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(key),
        Body: text,
        ContentType: 'application/json',
        ...this.encryption(),
      }),
    );
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const base = this.key(prefix);
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined)
          keys.push(this.options.prefix === '' ? object.Key : object.Key.slice(this.key('').length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  urlOf(key: string): string {
    return `s3://${this.options.bucket}/${this.key(key)}`;
  }
}
