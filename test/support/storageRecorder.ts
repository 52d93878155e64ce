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
    stop(): Promise<void>;
}

export async function startStorageRecorder(targetPort: number): Promise<StorageRecorder> {
    const port = await freePort();
    const recorder: StorageRecorder = { port, requests: [], stop: () => Promise.resolve() };
    const server: Server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const comp = url.searchParams.get('comp');
        recorder.requests.push({ call: comp ? `${req.method} ${comp}` : String(req.method), path: url.pathname });
        const upstream = httpRequest(
            { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
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
