import {
    fileTransferBase,
    organisationNumberOf,
    parseOverview,
    recipientStatusOf,
    type FileTransferOverview,
} from '../../../shared/altinn/broker';
import { catchUpEvent } from '../../../shared/broker/catchUp';
import { blockId } from '../../../shared/broker/download';
import { decideBrokerEvent, roleOf } from '../../../shared/broker/event';
import { contentDisposition, fileBlobName, overviewBlobName, sanitiseFileName } from '../../../shared/broker/layout';
import { parseChecksum } from '../../../shared/broker/processor';
import type { CloudEvent } from '../../../shared/cloudEvent';
import { inboundQueueFor } from '../../../shared/routing';

const base = fileTransferBase({ platformBaseUrl: 'https://platform.tt02.altinn.no' });
const config = { brokerResources: ['ttd-broker', 'other'], fileTransferBase: base };
const published: CloudEvent = {
    specversion: '1.0',
    id: '0d4c3d0e-6a4b-4c1e-9a57-111111111111',
    time: '2026-11-22T10:00:00Z',
    source: 'https://platform.tt02.altinn.no/broker/api/v1/filetransfer',
    subject: 'urn:altinn:organization:identifier-no:405003309',
    type: 'no.altinn.broker.published',
    resource: 'urn:altinn:resource:ttd-broker',
    resourceinstance: '2F9B1F3C-5C55-4C6A-8D7E-1A2B3C4D5E6F',
    data: { Role: 'Recipient' },
};

describe('decideBrokerEvent', () => {
    it('accepts a published event for us as recipient on a configured resource', () => {
        expect(decideBrokerEvent(published, config)).toEqual({
            accept: true,
            kind: 'published',
            eventType: 'published',
            resourceId: 'ttd-broker',
            fileTransferId: '2f9b1f3c-5c55-4c6a-8d7e-1a2b3c4d5e6f',
        });
    });

    it('tolerates missing data and subject, and a trailing slash or other case in the source', () => {
        const { data: _data, subject: _subject, ...bare } = published;
        expect(
            decideBrokerEvent({ ...bare, source: `${base.toUpperCase().replace('HTTPS', 'https')}/` }, config),
        ).toEqual({
            accept: true,
            kind: 'published',
            eventType: 'published',
            resourceId: 'ttd-broker',
            fileTransferId: '2f9b1f3c-5c55-4c6a-8d7e-1a2b3c4d5e6f',
        });
        expect(decideBrokerEvent({ ...published, data: 'not an object' }, config).accept).toBe(true);
        expect(decideBrokerEvent({ ...published, data: { role: 'Recipient' } }, config).accept).toBe(true);
    });

    it.each([
        [{ type: 'no.altinn.broker.downloadconfirmed' }, 'type'],
        [{ type: 'no.altinn.broker.filepurged' }, 'type'],
        [{ type: 'no.altinn.broker.allconfirmeddownloaded' }, 'type'],
        [{ type: 'no.altinn.broker.somethingnew' }, 'type'],
        [{ type: 'app.instance.process.completed' }, 'type'],
        [{ resource: 'urn:altinn:resource:not-configured' }, 'resource'],
        [{ resource: 'ttd-broker' }, 'resource'],
        [{ resource: undefined }, 'resource'],
        [{ source: 'https://platform.tt02.altinn.no/broker/api/v1/filetransfer/x' }, 'source'],
        [{ source: 'https://evil.example/broker/api/v1/filetransfer' }, 'source'],
        [{ source: 'https://altinn.no.evil.example/broker/api/v1/filetransfer' }, 'source'],
        [{ source: 'https://platform.tt02.altinn.no/other/api/v1/filetransfer' }, 'source'],
        [{ source: 'not a url' }, 'source'],
        [{ data: { Role: 'recipient' } }, 'role'],
        [{ data: { Role: 'Sender' }, resource: 'ttd-broker' }, 'resource'],
        [{ data: { Role: 'Sender' }, resourceinstance: 'x' }, 'resourceinstance'],
        [{ resourceinstance: undefined }, 'resourceinstance'],
        [{ resourceinstance: '../../etc' }, 'resourceinstance'],
    ] as [Partial<CloudEvent>, string][])('drops %j (%s)', (change, reason) => {
        expect(decideBrokerEvent({ ...published, ...change }, config)).toMatchObject({ accept: false, reason });
    });

    // altinn-broker: the sender gets every event type with Role Sender (FileTransferPublishService, UploadFileHandler,
    // ConfirmDownloadHandler, PurgeFileTransferHandler), on whatever resource it sent on.
    it.each([
        'filetransferinitialized',
        'uploadprocessing',
        'published',
        'uploadfailed',
        'downloadconfirmed',
        'allconfirmeddownloaded',
        'fileneverconfirmeddownloaded',
        'filepurged',
    ])('accepts %s for us as sender, on any resource, as news of a transfer we may have sent', (type) => {
        const event = {
            ...published,
            type: `no.altinn.broker.${type}`,
            resource: 'urn:altinn:resource:not-configured',
            data: { Role: 'Sender' },
        };
        expect(decideBrokerEvent(event, config)).toEqual({
            accept: true,
            kind: 'sent',
            eventType: type,
            resourceId: 'not-configured',
            fileTransferId: '2f9b1f3c-5c55-4c6a-8d7e-1a2b3c4d5e6f',
        });
    });

    it('never reads the subject: the decision is the same whoever the event is addressed to', () => {
        const other = { ...published, subject: 'urn:altinn:organization:identifier-no:910753614' };
        expect(decideBrokerEvent(other, config)).toEqual(decideBrokerEvent(published, config));
    });

    it('accepts fileneverconfirmeddownloaded for us as recipient, to be reported', () => {
        const never = { ...published, type: 'no.altinn.broker.fileneverconfirmeddownloaded' };
        expect(decideBrokerEvent(never, config)).toMatchObject({ accept: true, kind: 'never-confirmed' });
    });

    // altinn-broker AltinnEventBus: source = PlatformGatewayUrl + "broker/api/v1/filetransfer", Broker's own setting.
    it.each([
        'https://platform.tt02.altinn.no//broker/api/v1/filetransfer',
        'https://platform.tt02.altinn.nobroker/api/v1/filetransfer',
        'https://api.tt02.altinn.no/broker/api/v1/filetransfer',
        'https://platform.altinn.no/broker/api/v1/filetransfer/',
    ])('accepts Broker’s source in another form, %s, marked so that it is pointed out', (source) => {
        expect(decideBrokerEvent({ ...published, source }, config)).toMatchObject({
            accept: true,
            sourceDiffers: true,
        });
    });

    it('routes every Broker event type to broker-inbound', () => {
        expect(inboundQueueFor(published)).toBe('broker-inbound');
        expect(inboundQueueFor({ ...published, type: 'no.altinn.broker.filepurged' })).toBe('broker-inbound');
    });

    it('reads data.Role whatever the key case', () => {
        expect(roleOf({ Role: 'Sender' })).toBe('Sender');
        expect(roleOf({ ROLE: 'Recipient' })).toBe('Recipient');
        expect(roleOf(null)).toBeUndefined();
        expect(roleOf(['Recipient'])).toBeUndefined();
    });
});

describe('sanitiseFileName', () => {
    it.each([
        ['rapport.pdf', 'rapport.pdf'],
        ['søknad æøå ✓ 😀 报告.xml', 'søknad æøå ✓ 😀 报告.xml'],
        ['../../etc/passwd', 'passwd'],
        ['..\\..\\windows\\system32\\x.dll', 'x.dll'],
        ['a/b/c.txt', 'c.txt'],
        ['..', 'file'],
        ['.', 'file'],
        ['', 'file'],
        ['dir/', 'file'],
        ['  spaced name.txt  ', 'spaced name.txt'],
        ['trailing dots...', 'trailing dots'],
        ['tab\there\u0000\u001f\u007f\u0085.txt', 'tabhere.txt'],
        ['filetransfer.json', '_filetransfer.json'],
        ['.hidden', '.hidden'],
    ])('%j becomes %j', (input, expected) => {
        expect(sanitiseFileName(input)).toBe(expected);
    });

    it('shortens long names to 200 characters, keeping the extension', () => {
        const long = `${'ø'.repeat(300)}.pdf`;
        const safe = sanitiseFileName(long);
        expect([...safe]).toHaveLength(200);
        expect(safe.endsWith('.pdf')).toBe(true);
        expect([...sanitiseFileName('😀'.repeat(250))]).toHaveLength(200);
    });

    it('builds the pinned layout', () => {
        expect(fileBlobName('ttd-broker', 'abc', '../x/y.zip')).toBe('ttd-broker/abc/y.zip');
        expect(overviewBlobName('ttd-broker', 'abc')).toBe('ttd-broker/abc/filetransfer.json');
        expect(fileBlobName('ttd-broker', 'abc', 'filetransfer.json')).not.toBe(overviewBlobName('ttd-broker', 'abc'));
    });

    it('writes Content-Disposition with an ASCII fallback and the exact name', () => {
        expect(contentDisposition('år "1".pdf')).toBe(
            `attachment; filename="_r _1_.pdf"; filename*=UTF-8''%C3%A5r%20%221%22.pdf`,
        );
    });
});

describe('checksums, overviews, organisations', () => {
    it('reads Broker’s MD5 hex in any case, or base64', () => {
        const md5 = Buffer.from('9e107d9d372bb6826bd81d3542a419d6', 'hex');
        expect(parseChecksum('9e107d9d372bb6826bd81d3542a419d6')).toEqual(md5);
        expect(parseChecksum('9E107D9D372BB6826BD81D3542A419D6')).toEqual(md5);
        expect(parseChecksum(md5.toString('base64'))).toEqual(md5);
        expect(parseChecksum(null)).toBeUndefined();
        expect(parseChecksum('')).toBeUndefined();
        expect(parseChecksum('sha256:abc')).toBe('unrecognised');
    });

    it('checks the overview fields the processor relies on', () => {
        const overview = {
            fileTransferId: 'a',
            resourceId: 'r',
            fileName: 'f',
            fileTransferSize: 3,
            fileTransferStatus: 'Published',
            checksum: null,
            recipients: [],
            propertyList: {},
        };
        expect(parseOverview(JSON.stringify(overview))).toEqual(overview);
        expect(() => parseOverview('{')).toThrow(/not valid JSON/);
        expect(() => parseOverview('[]')).toThrow(/not a JSON object/);
        expect(() => parseOverview(JSON.stringify({ ...overview, fileTransferSize: -1, fileName: 3 }))).toThrow(
            /fileName, fileTransferSize/,
        );
        expect(() => parseOverview(JSON.stringify({ ...overview, checksum: 5 }))).toThrow(/checksum/);
    });

    it('finds our recipient status by organisation number', () => {
        const overview = {
            recipients: [
                { recipient: '0192:999999999', currentRecipientFileTransferStatusCode: 'DownloadConfirmed' },
                { recipient: '0192:405003309', currentRecipientFileTransferStatusCode: 'Initialized' },
            ],
        } as unknown as FileTransferOverview;
        expect(recipientStatusOf(overview, '405003309')).toBe('Initialized');
        expect(recipientStatusOf(overview, '111111111')).toBeUndefined();
        expect(recipientStatusOf(overview, undefined)).toBeUndefined();
        expect(organisationNumberOf('urn:altinn:organization:identifier-no:405003309')).toBe('405003309');
        expect(organisationNumberOf('0192:405003309')).toBe('405003309');
        expect(organisationNumberOf('/org/405003309')).toBeUndefined();
    });
});

describe('catch-up events and block ids', () => {
    it('makes the published event Broker would have sent', () => {
        const now = new Date('2026-11-22T12:00:00Z');
        expect(catchUpEvent(base, 'ttd-broker', 'abc', '405003309', now)).toEqual({
            specversion: '1.0',
            id: 'catchup-abc',
            time: '2026-11-22T12:00:00.000Z',
            source: base,
            type: 'no.altinn.broker.published',
            subject: 'urn:altinn:organization:identifier-no:405003309',
            resource: 'urn:altinn:resource:ttd-broker',
            resourceinstance: 'abc',
            data: { Role: 'Recipient' },
            aosvia: 'catchup',
        });
        const event = catchUpEvent(base, 'ttd-broker', '2f9b1f3c-5c55-4c6a-8d7e-1a2b3c4d5e6f', undefined, now);
        expect(event.subject).toBeUndefined();
        expect(decideBrokerEvent(event, config).accept).toBe(true);
    });

    it('gives every block id the same length', () => {
        expect(new Set([0, 1, 99, 49_999].map((i) => blockId(i).length)).size).toBe(1);
        expect(Buffer.from(blockId(7), 'base64').toString()).toBe('aos-broker-000007');
    });
});
