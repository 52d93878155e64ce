/**
 * The local Azure Functions host: runs the app's own @azure/functions registrations against
 * Azurite, honouring host.json, for development and integration tests. See README.md here.
 */
export { startHost, defaultPort, hostStartedPattern } from './host';
export type { FunctionInfo, RunningHost, StartHostOptions } from './host';
export { HostStartupError } from './log';
export type { LineWriter } from './log';
