/**
 * A loopback HTTP proxy in front of Azurite that counts every request by kind (requestKinds.ts).
 * The host's connection string points at it, so the count is what the pipeline really sends,
 * retries included. A receive that returned no message is the host polling an empty queue and
 * is counted apart (idle), as are container listings (the subscription timers).
 */
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestKind, type Service } from './requestKinds';

export interface CountingProxy<S extends Service = Service> {
    /** Ports to give clients instead of Azurite's. */
    ports: Record<S, number>;
    /** Requests by kind since the last reset. */
    counts(): Record<string, number>;
    reset(): void;
    stop(): Promise<void>;
}

/** A proxy for each service given, forwarding to Azurite's port for it. */
export async function startCountingProxy<S extends Service>(upstream: Record<S, number>): Promise<CountingProxy<S>> {
    let counts: Record<string, number> = {};
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const servers: Server[] = [];
    const ports = {} as Record<S, number>;

    const forward = (service: S) => (incoming: IncomingMessage, outgoing: ServerResponse) => {
        const kind = requestKind(service, {
            method: incoming.method ?? 'GET',
            url: incoming.url ?? '/',
            headers: incoming.headers,
        });
        const upstreamRequest = request(
            {
                host: '127.0.0.1',
                port: upstream[service],
                method: incoming.method,
                path: incoming.url,
                headers: incoming.headers,
                agent,
            },
            (response) => {
                outgoing.writeHead(response.statusCode ?? 502, response.statusMessage, response.headers);
                if (kind !== 'queue receive') {
                    counts[kind] = (counts[kind] ?? 0) + 1;
                    response.pipe(outgoing);
                    return;
                }
                // A receive's answer is a small XML list; whether it holds a message says work or idle polling.
                let body = '';
                response.on('data', (chunk: Buffer) => {
                    body += chunk.toString('utf8');
                    outgoing.write(chunk);
                });
                response.on('end', () => {
                    const counted = body.includes('<QueueMessage>') ? kind : 'queue receive (empty)';
                    counts[counted] = (counts[counted] ?? 0) + 1;
                    outgoing.end();
                });
            },
        );
        upstreamRequest.on('error', () => outgoing.destroy());
        incoming.pipe(upstreamRequest);
    };

    for (const service of Object.keys(upstream) as S[]) {
        const server = createServer({ keepAlive: true }, forward(service));
        await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
        ports[service] = (server.address() as AddressInfo).port;
        servers.push(server);
    }
    return {
        ports,
        counts: () => ({ ...counts }),
        reset() {
            counts = {};
        },
        async stop() {
            await Promise.all(
                servers.map((server) => {
                    server.closeAllConnections();
                    return new Promise((ok) => server.close(ok));
                }),
            );
            agent.destroy();
        },
    };
}
