/**
 * What kind of storage operation one HTTP request to Azurite is, from its method, path and
 * query (the REST API names the operation by `comp=`/`restype=` and, for Put Blob, by the
 * x-ms-blob-type header). The bench counts requests per instance by these kinds.
 *
 * Blob: https://learn.microsoft.com/rest/api/storageservices/blob-service-rest-api
 * Queue: https://learn.microsoft.com/rest/api/storageservices/queue-service-rest-api
 * Table: https://learn.microsoft.com/rest/api/storageservices/table-service-rest-api
 */
export type Service = 'blob' | 'queue' | 'table';

export interface RequestLine {
    method: string;
    /** Path and query as sent, e.g. /devstoreaccount1/inbound/a/b?comp=block&blockid=… */
    url: string;
    /** Lower-case header names, as node hands them over. */
    headers: Record<string, string | string[] | undefined>;
}

/** Kinds that are the host polling for work rather than work: not counted per instance. */
export const idleKinds: ReadonlySet<string> = new Set(['queue receive (empty)', 'blob list']);

export function requestKind(service: Service, { method, url, headers }: RequestLine): string {
    const parsed = new URL(url, 'http://storage');
    const comp = parsed.searchParams.get('comp');
    const restype = parsed.searchParams.get('restype');
    const segments = parsed.pathname.split('/').filter(Boolean);
    const verb = method.toUpperCase();
    switch (service) {
        case 'queue': {
            // /account/queue/messages[/id]
            if (segments[2] !== 'messages') return 'queue other';
            if (verb === 'POST') return 'queue put';
            if (verb === 'GET') return parsed.searchParams.get('peekonly') === 'true' ? 'queue peek' : 'queue receive';
            if (verb === 'DELETE') return segments.length > 3 ? 'queue delete' : 'queue other';
            if (verb === 'PUT') return 'queue update';
            return 'queue other';
        }
        case 'blob': {
            if (restype === 'container' && comp === 'list') return 'blob list';
            if (restype) return 'blob other';
            if (verb === 'PUT' && comp === 'block') return 'blob block';
            if (verb === 'PUT' && comp === 'blocklist') return 'blob commit';
            if (verb === 'PUT' && !comp && headers['x-ms-blob-type'] && !headers['x-ms-copy-source']) return 'blob put';
            if (verb === 'HEAD' && !comp) return 'blob head';
            if (verb === 'GET' && !comp) return 'blob get';
            if (verb === 'DELETE' && !comp) return 'blob delete';
            return 'blob other';
        }
        case 'table': {
            // /account/Tables (table operations), /account/$batch, /account/name(...) (entities)
            const target = segments[1] ?? '';
            if (target === '$batch') return 'table batch';
            if (target === 'Tables' || target.startsWith('Tables(')) return 'table other';
            if (verb === 'GET') return 'table query';
            if (verb === 'POST') return 'table insert';
            if (verb === 'PUT' || verb === 'MERGE' || verb === 'PATCH') return 'table upsert';
            if (verb === 'DELETE') return 'table delete';
            return 'table other';
        }
    }
}
