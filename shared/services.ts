/**
 * What a function invocation needs, built once per worker process on first use: the validated
 * configuration, storage clients, and the Altinn HTTP stack with its token cache. Built lazily
 * so that a function file can be loaded (and a host can index it) before settings are read.
 */
import { getAltinn, type AltinnStack } from './altinn';
import { getConfig, type AppConfig } from './config';
import { getStorage, type Storage } from './storage';

export interface Services {
    config: AppConfig;
    storage: Storage;
    altinn: AltinnStack;
}

export function getServices(): Services {
    return { config: getConfig(), storage: getStorage(), altinn: getAltinn() };
}
