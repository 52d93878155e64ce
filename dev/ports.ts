import { createServer, type Server } from 'node:net';

/** A loopback port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
    const [port] = await freePorts(1);
    return port;
}

/**
 * `count` different loopback ports that were free a moment ago. All are held open until every one
 * is picked, so that the OS cannot hand the same port out twice (asking one at a time, it may).
 */
export async function freePorts(count: number): Promise<number[]> {
    const servers: Server[] = [];
    try {
        const ports: number[] = [];
        for (let i = 0; i < count; i++) {
            const server = createServer();
            server.unref();
            servers.push(server);
            ports.push(await listenOnAnyPort(server));
        }
        return ports;
    } finally {
        await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
}

function listenOnAnyPort(server: Server): Promise<number> {
    return new Promise((resolve, reject) => {
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : 0);
        });
    });
}
