import { decodeMessage, encodeMessage, outputMessages } from '../../../dev/host/queueMessages';

test('base64 decoding is strict, like Convert.FromBase64String', () => {
    expect(decodeMessage(Buffer.from('{"a":"æøå"}').toString('base64'), 'base64')).toEqual({
        ok: true,
        text: '{"a":"æøå"}',
    });
    expect(decodeMessage('aGVs\nbG8=', 'base64')).toEqual({ ok: true, text: 'hello' });
    expect(decodeMessage('{"a":1}', 'base64').ok).toBe(false);
    expect(decodeMessage('abc', 'base64').ok).toBe(false);
    expect(decodeMessage('not base64!!', 'base64').ok).toBe(false);
    expect(decodeMessage('{"a":1}', 'none')).toEqual({ ok: true, text: '{"a":1}' });
});

test('encodes per messageEncoding', () => {
    expect(encodeMessage('hello', 'base64')).toBe('aGVsbG8=');
    expect(encodeMessage('hello', 'none')).toBe('hello');
    expect(encodeMessage(new Uint8Array([104, 105]), 'base64')).toBe('aGk=');
});

test('an output value that is an array is one message per element', () => {
    expect(outputMessages({ json: JSON.stringify(['a', { b: 1 }, 2]) })).toEqual(['a', '{"b":1}', '2']);
    expect(outputMessages({ json: '{"b":1}' })).toEqual(['{"b":1}']);
    expect(outputMessages({ string: 'text' })).toEqual(['text']);
    expect(outputMessages({ int: 5 })).toEqual(['5']);
    expect(outputMessages(undefined)).toEqual([]);
});
