import { compileBlobPath, matchBlobName } from '../../../dev/host/blobPath';

test('splits container and pattern, and extracts path parameters', () => {
    const pattern = compileBlobPath('add-subscriptions/{name}.json');
    expect(pattern.container).toBe('add-subscriptions');
    expect(pattern.prefix).toBe('');
    expect(matchBlobName(pattern, 'ttd-app.json')).toEqual({ name: 'ttd-app' });
    expect(matchBlobName(pattern, 'dir/a.b.json')).toEqual({ name: 'dir/a.b' });
    expect(matchBlobName(pattern, 'a.jsonx')).toBeUndefined();
    expect(matchBlobName(pattern, 'a.txt')).toBeUndefined();
});

test('literal prefixes become listing prefixes; a bare container matches every blob', () => {
    const pattern = compileBlobPath('inbound/{org}/{app}/instance.json');
    expect(pattern.prefix).toBe('');
    expect(matchBlobName(pattern, 'ttd/app1/instance.json')).toEqual({ org: 'ttd', app: 'app1' });
    const prefixed = compileBlobPath('samples/in/{name}');
    expect(prefixed.prefix).toBe('in/');
    expect(matchBlobName(prefixed, 'in/x')).toEqual({ name: 'x' });
    expect(matchBlobName(prefixed, 'out/x')).toBeUndefined();
    expect(matchBlobName(compileBlobPath('everything'), 'any/blob')).toEqual({});
});

test('refuses parameters in the container name', () => {
    expect(() => compileBlobPath('{container}/{name}')).toThrow(/not a valid container name/);
});
