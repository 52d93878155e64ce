import { HttpRequest, InvocationContext } from '@azure/functions';

export interface CapturedLog {
    level: string;
    message: string;
}

/** A real InvocationContext whose log lines are captured for assertions. */
export function invocationContext(functionName: string, triggerMetadata?: Record<string, unknown>) {
    const logs: CapturedLog[] = [];
    const context = new InvocationContext({
        functionName,
        invocationId: `test-${Math.random().toString(16).slice(2)}`,
        triggerMetadata,
        logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
    });
    return { context, logs };
}

export function postRequest(url: string, body: string | Buffer, headers: Record<string, string> = {}): HttpRequest {
    return new HttpRequest({
        method: 'POST',
        url,
        body: typeof body === 'string' ? { string: body } : { bytes: body },
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    });
}
