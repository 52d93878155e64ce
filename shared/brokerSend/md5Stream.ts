/** A pass-through that hashes what flows through it: Broker's checksum is the file's MD5, taken on the way. */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface Md5Stream {
    stream: Transform;
    /** The MD5 (lowercase hex) and length of everything that passed, once it has. */
    result(): { md5: string; bytes: number };
}

export function md5Stream(): Md5Stream {
    const hash = createHash('md5');
    let bytes = 0;
    const stream = new Transform({
        transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            bytes += chunk.length;
            done(null, chunk);
        },
    });
    return { stream, result: () => ({ md5: hash.digest('hex'), bytes }) };
}
