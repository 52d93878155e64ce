import {
    blobContentType,
    contentDisposition,
    dataBlobName,
    decodeMetadataValue,
    encodeMetadataValue,
    instanceBlobName,
} from '../../../shared/instances/layout';

const ref = { org: 'ttd', app: 'apps-test', instanceGuid: '0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11' };

test('blob names follow the pinned layout', () => {
    expect(dataBlobName(ref, 'A1B2C3D4-0000-4000-8000-000000000001')).toBe(
        'ttd/apps-test/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11/data/a1b2c3d4-0000-4000-8000-000000000001',
    );
    expect(instanceBlobName(ref)).toBe('ttd/apps-test/0f5d3a28-7cde-4d6c-a7a2-2d8d1b2d8a11/instance.json');
});

test.each([
    ['report.pdf', 'attachment; filename="report.pdf"'],
    ['my report (final).pdf', 'attachment; filename="my report (final).pdf"'],
    ['say "hi"\\.txt', 'attachment; filename="say \\"hi\\"\\\\.txt"'],
    [
        'søknad æøå ✓.pdf',
        `attachment; filename="s_knad ___ _.pdf"; filename*=UTF-8''s%C3%B8knad%20%C3%A6%C3%B8%C3%A5%20%E2%9C%93.pdf`,
    ],
    ["l'été (1)*.txt", `attachment; filename="l'_t_ (1)*.txt"; filename*=UTF-8''l%27%C3%A9t%C3%A9%20%281%29%2A.txt`],
    ['evil\r\nSet-Cookie: x.txt', 'attachment; filename="evil__Set-Cookie: x.txt"'],
])('Content-Disposition for %j', (filename, expected) => {
    expect(contentDisposition(filename)).toBe(expected);
});

test('no filename, no Content-Disposition', () => {
    expect(contentDisposition(undefined)).toBeUndefined();
    expect(contentDisposition(null)).toBeUndefined();
    expect(contentDisposition('')).toBeUndefined();
});

test('the filename* form decodes back to the name', () => {
    const name = 'Ærlig talt – 東京 ✓.docx';
    const star = /filename\*=UTF-8''(.+)$/.exec(contentDisposition(name)!)![1];
    expect(decodeURIComponent(star)).toBe(name);
    expect(star).toMatch(/^[A-Za-z0-9!#$&+\-.^_`|~%]+$/); // RFC 8187 attr-chars and pct-encoding only
});

test('content types default to application/octet-stream and lose control characters', () => {
    expect(blobContentType(undefined)).toBe('application/octet-stream');
    expect(blobContentType('  ')).toBe('application/octet-stream');
    expect(blobContentType('application/pdf')).toBe('application/pdf');
    expect(blobContentType('text/plain\r\nX: y')).toBe('text/plain__X: y');
});

test('metadata values are ASCII, and decode back', () => {
    for (const value of ['plain', 'søknad æøå ✓.pdf', '100% "quoted"', 'a/b?c=d']) {
        const encoded = encodeMetadataValue(value);
        expect(encoded).toMatch(/^[\x21-\x7e]*$/);
        expect(decodeMetadataValue(encoded)).toBe(value);
    }
    expect(decodeMetadataValue(undefined)).toBeUndefined();
    expect(decodeMetadataValue('%E0%A4%A')).toBe('%E0%A4%A');
});
