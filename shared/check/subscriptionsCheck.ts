/**
 * Each subscription this deployment holds (active-subscriptions) exists in Altinn, is validated
 * (Altinn pushes only to validated subscriptions, altinn-api.md §1.6), and pushes to this very
 * deployment's EventsReceiver with a function key: a subscription left pointing at an old or
 * another deployment delivers there, and nothing arrives here.
 */
import type { Subscription } from '../altinn/events';
import { redactUrl } from '../altinn/origins';
import { isLoopbackHost } from '../config';
import { activeBlobs, requestName, type SubscriptionDeps } from '../subscriptions/service';
import { failed, ok, timed, warning, type CheckResult, type Finding } from './report';

/** The webhook route (functions/eventsReceiver.ts). */
export const receiverPath = '/api/eventsreceiver';

/** `{origin}/api/eventsreceiver` for each origin this deployment answers on. */
export function receiverUrls(origins: readonly string[]): string[] {
    return [...new Set(origins.map((origin) => `${new URL(origin).origin}${receiverPath}`))];
}

/** Whether the endpoint is one of ours: same scheme, host (loopback counts as one host) and port, the receiver's path. */
function isOurs(endPoint: URL, receivers: readonly string[]): boolean {
    const host = (url: URL) => (isLoopbackHost(url.hostname) ? 'loopback' : url.hostname.toLowerCase());
    return receivers.some((receiver) => {
        const ours = new URL(receiver);
        return (
            ours.protocol === endPoint.protocol &&
            host(ours) === host(endPoint) &&
            ours.port === endPoint.port &&
            endPoint.pathname.replace(/\/+$/, '').toLowerCase() === receiverPath
        );
    });
}

function checkOne(file: Subscription | undefined, altinn: Subscription | undefined, receivers: string[]): Finding {
    if (!file) return failed('the file holds no subscription with an id', 'remove the file, or register it again');
    if (!altinn) {
        return failed(
            `Altinn has no subscription ${file.id}: nothing is pushed for it`,
            'register it again: npm run aos -- subscriptions add',
        );
    }
    const target = altinn.endPoint ?? file.endPoint;
    let endPoint: URL | undefined;
    try {
        endPoint = new URL(target);
    } catch {
        endPoint = undefined;
    }
    const filter = altinn.sourceFilter ?? altinn.resourceFilter ?? 'every source';
    const shown = `${altinn.typeFilter ?? 'every type'} from ${filter}`;
    if (!endPoint || !isOurs(endPoint, receivers)) {
        return failed(
            `Altinn pushes subscription ${file.id} to ${endPoint ? redactUrl(endPoint) : 'an invalid endPoint'}, not to this deployment (${receivers.join(' or ')})`,
            "remove it and register it again with endPoint set to this deployment's EventsReceiver URL with ?code=<function key>",
        );
    }
    if (!endPoint.searchParams.get('code')) {
        return failed(
            `subscription ${file.id} pushes to ${redactUrl(endPoint)} without ?code=: the receiver (auth level function) answers 401`,
            'register it again with ?code=<the EventsReceiver function key> in endPoint',
        );
    }
    if (altinn.validated !== true) {
        return failed(
            `Altinn has not validated subscription ${file.id} (created ${altinn.created ?? 'at an unknown time'}): it pushes nothing until the receiver answers the validation event with 2xx`,
            'check the function key in endPoint and that the app is reachable from the internet; Altinn retries validation for a few minutes after creating it, then register it again',
        );
    }
    return ok(`validated; Altinn pushes ${shown} to this deployment`);
}

export async function checkSubscriptions(deps: SubscriptionDeps, receivers: string[]): Promise<CheckResult[]> {
    let files: Awaited<ReturnType<typeof activeBlobs>> = [];
    let listed: Subscription[] = [];
    const read = await timed('subscriptions', 'Subscriptions', async () => {
        files = await activeBlobs(deps);
        listed = files.length === 0 ? [] : await deps.events.listSubscriptions();
        if (files.length === 0) {
            return warning(
                'no active subscription: Altinn pushes nothing to this deployment',
                'add one for each app (and Broker resource): npm run aos -- subscriptions add',
            );
        }
        return ok(`${files.length} active subscription(s); Altinn lists ${listed.length} for this organisation`);
    });
    const inAltinn = new Map(listed.map((sub) => [sub.id, sub]));
    const results = [read];
    for (const { blobName, subscription } of files) {
        const name = `Subscription ${requestName(blobName)}${subscription ? ` (${subscription.id})` : ''}`;
        results.push(
            await timed('subscriptions', name, () =>
                checkOne(subscription, subscription && inAltinn.get(subscription.id), receivers),
            ),
        );
    }
    const named = new Set(files.map((file) => file.subscription?.id));
    const unknown = listed.filter((sub) => !named.has(sub.id)).map((sub) => sub.id);
    if (unknown.length > 0) {
        results.push(
            await timed('subscriptions', 'Subscriptions unknown to this deployment', () =>
                warning(
                    `Altinn also has subscription(s) ${unknown.join(', ')} for this organisation that no active-subscriptions file names`,
                    'remove those you no longer want (npm run aos -- subscriptions remove), or put their file in active-subscriptions',
                ),
            ),
        );
    }
    return results;
}
