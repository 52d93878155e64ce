/** A minimal real HTTP peer on 127.0.0.1 for the Altinn client tests: it counts what reaches it. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestServer {
    origin: string;
    /** Requests received so far. */
    requests: IncomingMessage[];
    /** TCP connections accepted so far. */
    connections: number;
    /** Most connections open at the same time. */
    maxOpenConnections: number;
    close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, body: string, index: number) => void;

export async function startServer(handler: Handler): Promise<TestServer> {
    const sockets = new Set<Socket>();
    const state = { requests: [] as IncomingMessage[], connections: 0, maxOpenConnections: 0 };
    const server = createServer((request, response) => {
        const index = state.requests.push(request) - 1;
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => handler(request, response, Buffer.concat(chunks).toString('utf8'), index));
    });
    server.on('connection', (socket: Socket) => {
        state.connections++;
        sockets.add(socket);
        state.maxOpenConnections = Math.max(state.maxOpenConnections, sockets.size);
        socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
        origin: `http://127.0.0.1:${port}`,
        get requests() {
            return state.requests;
        },
        get connections() {
            return state.connections;
        },
        get maxOpenConnections() {
            return state.maxOpenConnections;
        },
        close: () =>
            new Promise<void>((resolve) => {
                for (const socket of sockets) socket.destroy();
                server.close(() => resolve());
            }),
    };
}

export function json(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
): void {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
}
