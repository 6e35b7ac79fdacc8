export const id = 95;
export const ids = [95];
export const modules = {

/***/ 4095:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   AzureBlobStore: () => (/* binding */ AzureBlobStore)
/* harmony export */ });
/* harmony import */ var _azure_storage_blob__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1459);
/* harmony import */ var _store_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6989);


/**
 * Azure Blob block blobs. Blocks are staged and committed only when the whole stream is in, so a
 * failed upload leaves no blob (uncommitted blocks are discarded by the service).
 */
class AzureBlobStore {
    location;
    readBack = 'size';
    container;
    prefix;
    containerUrl;
    constructor(options) {
        this.container = _azure_storage_blob__WEBPACK_IMPORTED_MODULE_0__/* .BlobServiceClient */ .wS.fromConnectionString(options.connectionString).getContainerClient(options.container);
        this.prefix = options.prefix.replace(/\/$/, '');
        this.location = `azure://${options.container}/${this.prefix}`;
        // A SAS connection string puts the signature in the client's URL query: never show it.
        const url = new URL(this.container.url);
        this.containerUrl = `${url.origin}${url.pathname.replace(/\/$/, '')}`;
    }
    key(key) {
        return this.prefix === '' ? key : `${this.prefix}/${key}`;
    }
    async upload(key, body) {
        await this.container.createIfNotExists();
        await this.container.getBlockBlobClient(this.key(key)).uploadStream(body, 8 * 1024 * 1024, 4);
    }
    async download(key, maxBytes) {
        const response = await this.container
            .getBlobClient(this.key(key))
            .download(0, maxBytes === undefined ? undefined : maxBytes + 1);
        return response.readableStreamBody;
    }
    async size(key) {
        try {
            return (await this.container.getBlobClient(this.key(key)).getProperties()).contentLength;
        }
        catch (error) {
            if (error.statusCode === 404)
                return undefined;
            throw error;
        }
    }
    async readText(key, maxBytes) {
        let body;
        try {
            body = await this.download(key, maxBytes);
        }
        catch (error) {
            if (error.statusCode === 404)
                return undefined;
            throw error;
        }
        return (await (0,_store_js__WEBPACK_IMPORTED_MODULE_1__/* .readBounded */ .CB)(body, maxBytes, key)).toString('utf8');
    }
    async writeText(key, text) {
        await this.container.createIfNotExists();
        await this.container.getBlockBlobClient(this.key(key)).upload(text, Buffer.byteLength(text), {
            blobHTTPHeaders: { blobContentType: 'application/json' },
        });
    }
    async list(prefix) {
        const keys = [];
        try {
            for await (const blob of this.container.listBlobsFlat({ prefix: this.key(prefix) })) {
                keys.push(this.prefix === '' ? blob.name : blob.name.slice(this.prefix.length + 1));
            }
        }
        catch (error) {
            if (error.statusCode === 404)
                return [];
            throw error;
        }
        return keys.sort();
    }
    async remove(key) {
        await this.container.getBlobClient(this.key(key)).deleteIfExists();
    }
    urlOf(key) {
        return `${this.containerUrl}/${this.key(key)}`;
    }
}


/***/ })

};
