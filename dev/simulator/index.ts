/* The Altinn simulator: a standalone fake of every Altinn endpoint the application owner system calls. See README.md. */
export { startSimulator, type Simulator } from './simulator';
export { type SimulatorControl, type ClientInfo, type SimulatorInfo, type FileTransferCreated } from './control';
export { HttpControlClient } from './controlClient';
export { generatedBytes, generatedDigest, generatedStream } from './dataGenerator';
export { ENDPOINT_NAMES } from './faults';
export { OUTBOUND_RETRY_SECONDS, VALIDATION_RETRY_SECONDS, VALIDATION_EVENT_TYPE } from './eventDelivery';
export * from './types';
