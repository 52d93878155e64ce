import { brokerFileReceived } from '../../../shared/handoff/brokerFile';
import { instanceReceived, instanceReceivedWithoutManifest } from '../../../shared/handoff/instance';
import { receivedText } from '../../../shared/handoff/message';
import type { Manifest } from '../../../shared/instances/manifest';
import { receivedValidator } from '../../support/receivedSchema';

const validate = receivedValidator();
const guid = '0b3c4d5e-1111-4222-8333-944455556666';
const ref = { org: 'ttd', app: 'apps-test', instanceGuid: guid, instanceId: `50001234/${guid}` };
const formId = 'a1b2c3d4-0000-4000-8000-000000000001';
const pdfId = 'a1b2c3d4-0000-4000-8000-000000000002';
const sha = (c: string) => c.repeat(64);

const manifest: Manifest = {
    instanceId: ref.instanceId,
    org: 'ttd',
    app: 'apps-test',
    storedAt: '2026-12-01T02:00:00.000Z',
    lastChanged: '2026-12-01T01:59:00.000Z',
    version: sha('c'),
    elements: [
        {
            id: formId,
            dataType: 'model',
            blob: `ttd/apps-test/${guid}/data/${formId}`,
            size: 120,
            sha256: sha('a'),
            contentType: 'application/xml',
            filename: null,
            fileScanResult: 'NotApplicable',
            quarantined: false,
        },
        {
            id: pdfId,
            dataType: 'attachment',
            blob: `ttd/apps-test/${guid}/data/${pdfId}`,
            size: 5000,
            sha256: sha('b'),
            contentType: 'application/pdf',
            filename: 'vedlegg æøå.pdf',
            fileScanResult: 'Infected',
            quarantined: true,
        },
    ],
};

describe('the instance message', () => {
    it('carries every element of the manifest, the blobs and the receipt time, and fits the schema', () => {
        const message = instanceReceived(ref, manifest);
        expect(message).toEqual({
            kind: 'instance',
            instanceId: ref.instanceId,
            org: 'ttd',
            app: 'apps-test',
            version: sha('c'),
            receivedAt: manifest.storedAt,
            container: 'inbound',
            instanceBlob: `ttd/apps-test/${guid}/instance.json`,
            manifestBlob: `ttd/apps-test/${guid}/manifest.json`,
            elements: [
                {
                    id: formId,
                    blob: `ttd/apps-test/${guid}/data/${formId}`,
                    sha256: sha('a'),
                    size: 120,
                    contentType: 'application/xml',
                    filename: null,
                    quarantined: false,
                },
                {
                    id: pdfId,
                    blob: `ttd/apps-test/${guid}/data/${pdfId}`,
                    sha256: sha('b'),
                    size: 5000,
                    contentType: 'application/pdf',
                    filename: 'vedlegg æøå.pdf',
                    quarantined: true,
                },
            ],
        });
        expect(validate(message)).toEqual([]);
    });

    it('without a manifest (stored by an earlier version): the elements of instance.json, no hashes, no manifest blob', () => {
        const message = instanceReceivedWithoutManifest(
            ref,
            { data: [{ id: formId, dataType: 'model', size: 7, contentType: null, filename: 'a.xml' }] },
            manifest.storedAt,
        );
        expect(message.manifestBlob).toBeNull();
        expect(message.elements).toEqual([
            {
                id: formId,
                blob: `ttd/apps-test/${guid}/data/${formId}`,
                sha256: null,
                size: 7,
                contentType: 'application/octet-stream',
                filename: 'a.xml',
                quarantined: false,
            },
        ]);
        expect(validate(message)).toEqual([]);
    });
});

describe('the Broker file message', () => {
    const fileTransferId = '7f0e2d1c-2222-4333-8444-955566667777';
    it('lists the file as its one element, filetransfer.json as its document, and fits the schema', () => {
        const message = brokerFileReceived({
            resourceId: 'ttd-broker',
            fileTransferId,
            overview: { fileName: '../rapport.pdf', fileTransferSize: 42, sender: '0192:991825827' },
            receivedAt: '2026-12-01T02:00:00.000Z',
            contentType: 'application/octet-stream',
            metadata: { sha256: sha('c') },
        });
        expect(message).toMatchObject({
            kind: 'brokerFile',
            fileTransferId,
            org: '0192:991825827',
            resourceId: 'ttd-broker',
            container: 'broker',
            instanceBlob: `ttd-broker/${fileTransferId}/filetransfer.json`,
            manifestBlob: null,
            elements: [
                { id: fileTransferId, blob: `ttd-broker/${fileTransferId}/rapport.pdf`, sha256: sha('c'), size: 42 },
            ],
        });
        expect(validate(message)).toEqual([]);
    });

    it('a sha256 metadata value that is not a lowercase hex SHA-256 becomes null', () => {
        const message = brokerFileReceived({
            resourceId: 'ttd-broker',
            fileTransferId,
            overview: { fileName: 'a', fileTransferSize: 1 },
            receivedAt: '2026-12-01T02:00:00.000Z',
            metadata: { sha256: 'not-a-hash' },
        });
        expect(message.elements![0].sha256).toBeNull();
        expect(message.org).toBeNull();
        expect(validate(message)).toEqual([]);
    });
});

describe('the schema', () => {
    const good = instanceReceived(ref, manifest);
    it.each([
        ['an element without sha256', { ...good, elements: [{ ...good.elements![0], sha256: undefined }] }],
        ['an uppercase sha256', { ...good, elements: [{ ...good.elements![0], sha256: sha('A') }] }],
        ['an instance with a fileTransferId', { ...good, fileTransferId: guid }],
        ['an instance in container broker', { ...good, container: 'broker' }],
        ['an unknown member', { ...good, extra: 1 }],
        ['an unknown kind', { ...good, kind: 'file' }],
        ['a receivedAt that is not a time', { ...good, receivedAt: 'yesterday' }],
    ])('refuses %s', (_name, message) => {
        expect(validate(JSON.parse(JSON.stringify(message)))).not.toEqual([]);
    });
});

describe('the queue text', () => {
    it('leaves the elements out (null) and says so at error when they would not fit in one queue message', () => {
        const many: Manifest = {
            ...manifest,
            elements: Array.from({ length: 400 }, (_, i) => ({
                ...manifest.elements[0],
                filename: `vedlegg-${i}.pdf`,
            })),
        };
        const lines: string[] = [];
        const logger = { info: () => {}, warn: () => {}, error: (line: unknown) => lines.push(String(line)) };
        const text = receivedText(instanceReceived(ref, many), logger, { instanceId: ref.instanceId });
        const parsed = JSON.parse(text) as { elements: unknown };
        expect(parsed.elements).toBeNull();
        expect(validate(parsed)).toEqual([]);
        expect(lines).toEqual([expect.stringMatching(/^step=handoff-elements-omitted .*elements=400/)]);
    });

    it('keeps every element when they fit', () => {
        const text = receivedText(instanceReceived(ref, manifest), { info() {}, warn() {}, error() {} }, {});
        expect((JSON.parse(text) as { elements: unknown[] }).elements).toHaveLength(2);
    });
});
