/**
 * Which Altinn and Maskinporten environment a configured URL belongs to, so that the deployment
 * check can warn about settings that mix environments and `aos smoke` can refuse production.
 *
 * Altinn's test environments are the "Staging" names of app-lib-dotnet
 * src/Altinn.App.Core/Constants/AltinnEnvironments.cs: at22, at23, at24, tt02 and yt01. Their hosts
 * (altinn-studio-docs content/altinn-studio/v8/guides/shared/api/base-urls.md): TT02
 * platform.tt02.altinn.no and {org}.apps.tt02.altinn.no; the others platform.{env}.altinn.cloud and
 * {org}.apps.{env}.altinn.cloud; production platform.altinn.no and {org}.apps.altinn.no.
 * Maskinporten: test.maskinporten.no pairs with the test environments, maskinporten.no with
 * production (docs.digdir.no maskinporten_func_wellknown; altinn-api.md §3).
 */
import { isLoopbackHost } from '../config';

export const altinnTestEnvironments = ['at22', 'at23', 'at24', 'tt02', 'yt01'] as const;

export type EnvironmentKind = 'production' | 'test' | 'local' | 'unknown';

export interface Environment {
    kind: EnvironmentKind;
    /** tt02, at22 …, production, local; undefined when unknown. */
    name?: string;
}

function hostOf(url: string): string | undefined {
    try {
        return new URL(url).hostname.toLowerCase();
    } catch {
        return undefined;
    }
}

/** The environment of AltinnPlatformBaseUrl or AltinnAppsBaseUrl. */
export function altinnEnvironmentOf(url: string): Environment {
    const host = hostOf(url);
    if (host === undefined) return { kind: 'unknown' };
    if (isLoopbackHost(host)) return { kind: 'local', name: 'local' };
    if (host === 'altinn.no' || host === 'platform.altinn.no' || /^[a-z0-9-]+\.apps\.altinn\.no$/.test(host)) {
        return { kind: 'production', name: 'production' };
    }
    const test = /^(?:platform|[a-z0-9-]+\.apps)\.([a-z0-9]+)\.altinn\.(no|cloud)$/.exec(host);
    const name = test?.[1];
    const domain = name === 'tt02' ? 'no' : 'cloud';
    if (name && (altinnTestEnvironments as readonly string[]).includes(name) && test[2] === domain) {
        return { kind: 'test', name };
    }
    return { kind: 'unknown' };
}

/** The environment of MaskinportenBaseUrl. */
export function maskinportenEnvironmentOf(url: string): Environment {
    const host = hostOf(url);
    if (host === undefined) return { kind: 'unknown' };
    if (isLoopbackHost(host)) return { kind: 'local', name: 'local' };
    if (host === 'maskinporten.no') return { kind: 'production', name: 'production' };
    if (host === 'test.maskinporten.no') return { kind: 'test', name: 'test' };
    return { kind: 'unknown' };
}
