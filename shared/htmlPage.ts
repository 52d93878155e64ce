/**
 * The operator pages (status, check): the same endpoint answers JSON or, for a browser, one
 * self-contained HTML page. The page has no script and loads nothing, and the headers say so to
 * the browser, so that nothing injected could run.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';

const pagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `?format=html|json`, else the Accept header; undefined for an unknown format. */
export function wantsHtml(request: HttpRequest): boolean | undefined {
    const format = request.query.get('format');
    if (format === 'html') return true;
    if (format === 'json') return false;
    if (format !== null) return undefined;
    return /\btext\/html\b/i.test(request.headers.get('accept') ?? '');
}

/** One self-contained page: its title, inline style and body; nothing it links to or loads. */
export function htmlDocument(title: string, style: string, body: string): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} – Altinn application owner system</title>
<style>${style}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export function htmlPage(html: string): HttpResponseInit {
    return {
        status: 200,
        headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': pagePolicy,
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff',
        },
        body: html,
    };
}

export function jsonAnswer(body: unknown, status = 200): HttpResponseInit {
    return { status, headers: { 'cache-control': 'no-store' }, jsonBody: body };
}
