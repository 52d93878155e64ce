import type { HttpResponseInit } from '@azure/functions';

/** An RFC 9457 problem details response. */
export function problem(status: number, title: string, detail: string): HttpResponseInit {
    return {
        status,
        headers: { 'content-type': 'application/problem+json' },
        jsonBody: { type: 'about:blank', title, status, detail },
    };
}
