import { createServer, request as httpRequest, type Server } from 'node:http';
import { freePort } from '../../dev/ports';

/**
 * An HTTP proxy in front of Azurite's blob endpoint that records every request as
 * "METHOD comp" ("PUT block", "PUT blocklist", "PUT" for a Put Blob), with its path, so that a
 * test can count what the code under test really sent over the wire.
 */
export interface StorageRecorder {
    port: number;
    requests: { call: string; path: string }[];
    /** The most requests that were open at once, and how many are open now. */
    concurrency: { max: number; now: number };
    /** Holds each answer this long, so that requests sent in parallel overlap. */
    delayMs: number;
    /** Answers a request with this status itself (Azurite never sees it) when it returns one. */
    refuse?: (call: string, index: number) => number | undefined;
    stop(): Promise<void>;
}

export async function startStorageRecorder(targetPort: number): Promise<StorageRecorder> {
    const port = await freePort();
    const recorder: StorageRecorder = {
        port,
        requests: [],
        concurrency: { max: 0, now: 0 },
        delayMs: 0,
        stop: () => Promise.resolve(),
    };
    const server: Server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const comp = url.searchParams.get('comp');
        recorder.requests.push({ call: comp ? `${req.method} ${comp}` : String(req.method), path: url.pathname });
        const { concurrency } = recorder;
        concurrency.now++;
        concurrency.max = Math.max(concurrency.max, concurrency.now);
        res.on('close', () => concurrency.now--);
        const refusal = recorder.refuse?.(recorder.requests.at(-1)!.call, recorder.requests.length - 1);
        if (refusal !== undefined) {
            req.resume();
            req.on('end', () => res.writeHead(refusal).end());
            return;
        }
        const upstream = httpRequest(
            { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
            (answer) => {
                setTimeout(() => {
                    res.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(res);
                }, recorder.delayMs);
            },
        );
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    recorder.stop = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return recorder;
}
