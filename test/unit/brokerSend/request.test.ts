import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidSendRequestError, parseSendRequest } from '../../../shared/brokerSend/request';
import { isRetryableFailure, transferState } from '../../../shared/brokerSend/state';
import type { FileTransferOverview } from '../../../shared/altinn/broker';
import { sentProgress } from '../../../shared/ledger';
import { docsSchemaValidator } from '../../support/receivedSchema';

const schema = docsSchemaValidator('broker-send.schema.json');
const example = (
    JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'broker-send.schema.json'), 'utf8')) as {
        examples: Record<string, unknown>[];
    }
).examples[0];

describe('a send request', () => {
    it('as documented is valid by the schema and parsed with Broker’s forms', () => {
        expect(schema(example)).toEqual([]);
        expect(parseSendRequest(JSON.stringify(example))).toEqual({
            blob: '2026/sak-42/vedtak.pdf',
            resourceId: 'ttd-demo-broker',
            recipients: ['0192:910753614', '0192:991825827'],
            fileName: 'vedtak.pdf',
            sendersFileTransferReference: 'sak-2026-42',
            propertyList: { saksnummer: '2026/42' },
            checksum: '9e107d9d372bb6826bd81d3542a419d6',
        });
    });

    it('takes the file name and reference from the blob when they are left out, and lowercases the checksum', () => {
        const request = parseSendRequest({
            blob: 'a/b/rapport.csv',
            resourceId: 'urn:altinn:resource:r',
            recipients: ['urn:altinn:organization:identifier-no:910753614'],
            checksum: '9E107D9D372BB6826BD81D3542A419D6',
        });
        expect(request).toMatchObject({
            resourceId: 'r',
            fileName: 'rapport.csv',
            sendersFileTransferReference: 'a/b/rapport.csv',
            recipients: ['0192:910753614'],
            checksum: '9e107d9d372bb6826bd81d3542a419d6',
        });
    });

    // Each refused by the parser (to broker-send-poison) and by the documented schema alike.
    it.each([
        [{ blob: undefined }, /blob/],
        [{ resourceId: 'a:b' }, /resourceId/],
        [{ recipients: [] }, /recipients/],
        [{ recipients: ['91075361'] }, /recipient "91075361"/],
        [{ recipients: ['910753614', '910753614'] }, /repeat/],
        [{ fileName: 'x'.repeat(256) }, /fileName/],
        [{ sendersFileTransferReference: '' }, /sendersFileTransferReference/],
        [{ propertyList: { k: 1 } }, /propertyList\.k/],
        [{ propertyList: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) }, /at most 10/],
        [{ propertyList: { ['k'.repeat(51)]: 'v' } }, /longer than 50/],
        [{ checksum: 'abc' }, /checksum/],
        [{ disableVirusScan: 'yes' }, /disableVirusScan/],
        [{ recipient: ['910753614'] }, /unknown field\(s\) recipient/],
    ])('%j is refused with the field named', (change, reason) => {
        const request = { ...example, ...change };
        expect(() => parseSendRequest(request)).toThrow(InvalidSendRequestError);
        expect(() => parseSendRequest(request)).toThrow(reason);
        expect(schema(request)).not.toEqual([]);
    });

    it('that is not a JSON object is refused', () => {
        expect(() => parseSendRequest('not json')).toThrow(/not JSON/);
        expect(() => parseSendRequest('[1]')).toThrow(/not a JSON object/);
    });
});

function overview(
    status: string,
    recipients: string[],
    extra: Partial<FileTransferOverview> = {},
): FileTransferOverview {
    return {
        fileTransferId: '2f9b1f3c-5c55-4c6a-8d7e-1a2b3c4d5e6f',
        resourceId: 'r',
        fileName: 'f',
        fileTransferSize: 1,
        fileTransferStatus: status,
        recipients: recipients.map((code, i) => ({
            recipient: `0192:91075361${i}`,
            currentRecipientFileTransferStatusCode: code,
        })),
        expirationTime: '2026-12-31T00:00:00Z',
        ...extra,
    };
}

describe('where a sent file is, from Broker’s overview', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    it.each([
        ['Initialized', ['Initialized'], 'initialized', 'initialized'],
        ['UploadStarted', ['Initialized'], 'uploading', 'uploading'],
        ['UploadProcessing', ['Initialized'], 'processing', 'processing'],
        ['Published', ['DownloadConfirmed', 'DownloadStarted'], 'published', 'published, confirmed 1/2'],
        ['Published', ['DownloadConfirmed', 'DownloadConfirmed'], 'confirmed', 'confirmed 2/2'],
        ['AllConfirmedDownloaded', ['DownloadConfirmed', 'DownloadConfirmed'], 'confirmed', 'confirmed 2/2'],
        ['Purged', ['DownloadConfirmed', 'DownloadConfirmed'], 'confirmed', 'confirmed 2/2'],
        ['Purged', ['DownloadConfirmed', 'Initialized'], 'deleted', 'deleted, confirmed 1/2'],
        ['Cancelled', ['Initialized'], 'deleted', 'deleted, confirmed 0/1'],
        ['Failed', ['Initialized'], 'failed', 'failed'],
    ])('%s with recipients %j is %s ("%s")', (status, codes, state, progress) => {
        const found = transferState(overview(status, codes), now);
        expect(found.state).toBe(state);
        expect(sentProgress({ ...found, retriedAs: undefined })).toBe(progress);
    });

    it('is expired when Broker purged it at or after its expiration time with a recipient unconfirmed', () => {
        const found = transferState(overview('Purged', ['DownloadConfirmed', 'Initialized']), new Date('2027-01-01'));
        expect(sentProgress({ ...found, retriedAs: undefined })).toBe('expired, confirmed 1/2');
    });

    it('says why it failed, and whether sending again can help', () => {
        const mismatch = transferState(
            overview('Failed', ['Initialized'], { fileTransferStatusText: 'Checksum mismatch' }),
        );
        expect(sentProgress({ ...mismatch, retriedAs: undefined })).toBe('failed: Checksum mismatch');
        expect(isRetryableFailure('Checksum mismatch')).toBe(false);
        expect(isRetryableFailure('Malware scan failed: Malicious. Extra details: {}')).toBe(false);
        expect(isRetryableFailure('Error occurred while uploading fileTransfer')).toBe(true);
        expect(isRetryableFailure('File upload failed and was aborted')).toBe(true);
    });
});
