import type { AzuritePorts } from './azurite';

const accountName = 'devstoreaccount1';
// Azurite's well-known development account key, published in Azurite's README: not a secret.
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A connection string for an Azurite on loopback with the given blob, queue and table ports. */
export function connectionStringFor({ blobPort, queuePort, tablePort }: AzuritePorts): string {
    return [
        'DefaultEndpointsProtocol=http',
        `AccountName=${accountName}`,
        `AccountKey=${accountKey}`,
        `BlobEndpoint=http://127.0.0.1:${blobPort}/${accountName}`,
        `QueueEndpoint=http://127.0.0.1:${queuePort}/${accountName}`,
        `TableEndpoint=http://127.0.0.1:${tablePort}/${accountName}`,
    ].join(';');
}
