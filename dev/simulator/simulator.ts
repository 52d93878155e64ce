import { appsRoutes } from './apps';
import { authenticationRoutes } from './authentication';
import { brokerRoutes } from './broker';
import { Control, controlRoutes, type SimulatorControl } from './control';
import { resolveOptions, SimCore } from './core';
import { eventsRoutes } from './events';
import { instantiationRoutes, registerApp } from './instantiation';
import { maskinportenRoutes, toRegisteredClient } from './maskinporten';
import { Router } from './router';
import { close, listen, type RunningListener } from './server';
import { storageRoutes } from './storage';
import { type CountersSnapshot, type SimulatorOptions } from './types';

export interface Simulator {
    /** Origins without a trailing slash, e.g. http://127.0.0.1:5101 */
    readonly platformUrl: string;
    readonly appsUrl: string;
    readonly maskinportenUrl: string;
    /** The control API, in process (the same operations as HTTP /sim/ on platformUrl). */
    readonly control: SimulatorControl;
    /** Changes the Events BaseUri that `next` links start with (see SimulatorOptions.eventsBaseUri). */
    setEventsBaseUri(uri: string): void;
    /** A snapshot of the counters (synchronous convenience for control.counters()). */
    counters(): CountersSnapshot;
    stop(): Promise<void>;
}

/** Starts the three listeners (platform, apps, Maskinporten) and returns when they accept connections. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
    const resolved = resolveOptions(options);
    const core = await SimCore.create(resolved, options.log ?? (() => undefined));
    for (const client of resolved.clients) {
        const registered = toRegisteredClient(client, resolved.orgNumber);
        core.state.clients.set(registered.clientId, registered);
    }
    for (const app of options.apps ?? []) registerApp(core, app);
    const control = new Control(core);
    const router = new Router([
        ...maskinportenRoutes(core),
        ...authenticationRoutes(core),
        ...appsRoutes(core),
        ...instantiationRoutes(core),
        ...storageRoutes(core),
        ...eventsRoutes(core),
        ...brokerRoutes(core),
        ...controlRoutes(control),
    ]);
    const started: RunningListener[] = [];
    try {
        started.push(await listen(core, router, 'platform', resolved.host, options.platformPort ?? 0));
        started.push(await listen(core, router, 'apps', resolved.host, options.appsPort ?? 0));
        started.push(await listen(core, router, 'maskinporten', resolved.host, options.maskinportenPort ?? 0));
    } catch (err) {
        await Promise.all(started.map((s) => close(s.server)));
        throw err;
    }
    const [platform, apps, maskinporten] = started;
    core.origins.platformUrl = platform.url;
    core.origins.appsUrl = apps.url;
    core.origins.maskinportenUrl = maskinporten.url;
    let stopped: Promise<void> | undefined;
    return {
        platformUrl: platform.url,
        appsUrl: apps.url,
        maskinportenUrl: maskinporten.url,
        control,
        setEventsBaseUri: (uri) => {
            core.options.eventsBaseUri = uri;
        },
        counters: () => core.counters.snapshot(core.state.deliveries.values()),
        stop: () => {
            stopped ??= (async () => {
                core.delivery.stop();
                await Promise.all(started.map((s) => close(s.server)));
            })();
            return stopped;
        },
    };
}
