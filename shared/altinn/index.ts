/**
 * The Altinn HTTP layer, wired once per process: one connection pool, one token cache, shared
 * by every function invocation in this worker (so a warm instance does not grant again).
 */
import { getConfig, type AppConfig } from '../config';
import { createAltinnAgent, createAltinnHttp, type AltinnHttp } from './http';
import { createTokenProvider, type MaskinportenTokenProvider, type TokenProviderOptions } from './tokens';

export * from './errors';
export * from './http';
export * from './origins';
export { loadSigningKey, parseSigningKey, type SigningKey, type SecretReader } from './signingKey';
export * from './tokens';

export interface AltinnStack {
    http: AltinnHttp;
    tokens: MaskinportenTokenProvider;
    close(): Promise<void>;
}

/** A token provider and an authenticated client that share one connection pool. */
export function createAltinnStack(
    config: AppConfig,
    options: Pick<TokenProviderOptions, 'signingKey' | 'now'> = {},
): AltinnStack {
    const agent = createAltinnAgent(config);
    const tokens = createTokenProvider(config, {
        ...options,
        http: createAltinnHttp(config, undefined, { dispatcher: agent }),
    });
    const http = createAltinnHttp(config, tokens, { dispatcher: agent });
    return { http, tokens, close: () => agent.close() };
}

let stack: AltinnStack | undefined;

/** The process-wide stack, built from getConfig() on first use. */
export function getAltinn(): AltinnStack {
    stack ??= createAltinnStack(getConfig());
    return stack;
}
