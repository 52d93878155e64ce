/** The ledger of every instance and Broker file seen (Azure Table Storage), and the last runs of reconciliation and catch-up. */
export * from './keys';
export * from './ledger';
export * from './deferred';
export * from './runs';
export * from './via';
export * from './subjects';
export * from './settled';
