import { serializeCookie } from '../../../dev/host/httpRpc';

test('RPC cookies become Set-Cookie values', () => {
    expect(serializeCookie({ name: 'a', value: '1', sameSite: 'none' })).toBe('a=1');
    expect(
        serializeCookie({
            name: 'session',
            value: 'abc',
            domain: { value: 'example.org' },
            path: { value: '/' },
            expires: { value: { seconds: 1_800_000_000 } },
            maxAge: { value: 60 },
            secure: { value: true },
            httpOnly: { value: true },
            sameSite: 'explicitNone',
        }),
    ).toBe(
        'session=abc; Domain=example.org; Path=/; Expires=Fri, 15 Jan 2027 08:00:00 GMT; Max-Age=60; Secure; HttpOnly; SameSite=None',
    );
});
