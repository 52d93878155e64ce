import { resolve } from 'node:path';
import type { HostProcess } from '../../support/host';

/** The plain-JavaScript function app these tests run in the local host. */
export const fixtureApp = resolve(__dirname, '..', '..', 'fixtures', 'hostapp');

/** What a fixture function logged as `FIXTURE {json}`. */
export interface FixtureEvent {
    fn: string;
    [key: string]: unknown;
}

export function fixtureEvents(output: string, fn?: string): FixtureEvent[] {
    const events: FixtureEvent[] = [];
    for (const match of output.matchAll(/FIXTURE (\{.*\})$/gm)) {
        const event = JSON.parse(match[1]) as FixtureEvent;
        if (fn === undefined || event.fn === fn) events.push(event);
    }
    return events;
}

/** Waits until `accept` holds for the fixture events of `fn`, then returns them. */
export async function waitForEvents(
    host: HostProcess,
    fn: string,
    accept: (events: FixtureEvent[]) => boolean,
    timeoutMs = 15_000,
): Promise<FixtureEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const events = fixtureEvents(host.output(), fn);
        if (accept(events)) return events;
        if (Date.now() > deadline) {
            throw new Error(`Timed out waiting for ${fn} events; got ${JSON.stringify(events)}\n${host.output()}`);
        }
        await sleep(50);
    }
}

export function base64(text: string): string {
    return Buffer.from(text, 'utf8').toString('base64');
}

export function fromBase64(text: string): string {
    return Buffer.from(text, 'base64').toString('utf8');
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
