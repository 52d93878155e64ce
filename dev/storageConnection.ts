const accountName = 'devstoreaccount1';
// Azurite's well-known development account key, published in Azurite's README: not a secret.
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A connection string for an Azurite on loopback with the given blob and queue ports. */
export function connectionStringFor(blobPort: number, queuePort: number): string {
    return [
        'DefaultEndpointsProtocol=http',
        `AccountName=${accountName}`,
        `AccountKey=${accountKey}`,
        `BlobEndpoint=http://127.0.0.1:${blobPort}/${accountName}`,
        `QueueEndpoint=http://127.0.0.1:${queuePort}/${accountName}`,
    ].join(';');
}
