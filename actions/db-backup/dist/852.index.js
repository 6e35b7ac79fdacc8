export const id = 852;
export const ids = [852];
export const modules = {

/***/ 6852:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   S3Store: () => (/* binding */ S3Store)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9232);
/* harmony import */ var _aws_sdk_lib_storage__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9131);
/* harmony import */ var _store_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6989);



/** S3 through the AWS SDK v3: streamed multipart uploads, aborted on failure so no part is left. */
class S3Store {
    location;
    readBack = 'size';
    client;
    options;
    constructor(options) {
        this.options = options;
        this.location = `s3://${options.bucket}/${options.prefix}`;
        this.client = new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.S3Client({
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
    key(key) {
        return this.options.prefix === '' ? key : `${this.options.prefix.replace(/\/$/, '')}/${key}`;
    }
    encryption() {
        return {
            ...(this.options.serverSideEncryption === undefined
                ? {}
                : { ServerSideEncryption: this.options.serverSideEncryption }),
            ...(this.options.kmsKeyId === undefined ? {} : { SSEKMSKeyId: this.options.kmsKeyId }),
        };
    }
    async upload(key, body) {
        const upload = new _aws_sdk_lib_storage__WEBPACK_IMPORTED_MODULE_0__/* .Upload */ ._({
            client: this.client,
            params: { Bucket: this.options.bucket, Key: this.key(key), Body: body, ...this.encryption() },
            partSize: this.options.partSize ?? 16 * 1024 * 1024,
            queueSize: 2,
            leavePartsOnError: false,
        });
        body.on('error', () => void upload.abort().catch(() => undefined));
        await upload.done();
    }
    async download(key, maxBytes) {
        const result = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.GetObjectCommand({
            Bucket: this.options.bucket,
            Key: this.key(key),
            ...(maxBytes === undefined ? {} : { Range: `bytes=0-${maxBytes}` }),
        }));
        return result.Body;
    }
    async size(key) {
        try {
            const head = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
            return head.ContentLength;
        }
        catch (error) {
            if (error.name === 'NotFound' ||
                error.$metadata?.httpStatusCode === 404) {
                return undefined;
            }
            throw error;
        }
    }
    async readText(key, maxBytes) {
        let body;
        try {
            body = await this.download(key, maxBytes);
        }
        catch (error) {
            if (error.name === 'NoSuchKey')
                return undefined;
            throw error;
        }
        return (await (0,_store_js__WEBPACK_IMPORTED_MODULE_1__/* .readBounded */ .CB)(body, maxBytes, key)).toString('utf8');
    }
    async writeText(key, text) {
        await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.PutObjectCommand({
            Bucket: this.options.bucket,
            Key: this.key(key),
            Body: text,
            ContentType: 'application/json',
            ...this.encryption(),
        }));
    }
    async list(prefix) {
        const keys = [];
        const base = this.key(prefix);
        let token;
        do {
            const page = await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: base, ContinuationToken: token }));
            for (const object of page.Contents ?? []) {
                if (object.Key !== undefined)
                    keys.push(this.options.prefix === '' ? object.Key : object.Key.slice(this.key('').length));
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
        return keys.sort();
    }
    async remove(key) {
        await this.client.send(new _aws_sdk_client_s3__WEBPACK_IMPORTED_MODULE_2__.DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
    }
    urlOf(key) {
        return `s3://${this.options.bucket}/${this.key(key)}`;
    }
}


/***/ })

};
