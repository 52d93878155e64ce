/** The instance pipeline: source parsing, blob layout, the instance store, downloading, feedback and confirmation. */
export * from './afterConfirmed';
export * from './confirmation';
export * from './download';
export * from './feedback';
export * from './layout';
export * from './manifest';
export * from './manifestEntry';
export * from './once';
export * from './pipeline';
export * from './processEnd';
export * from './scanWait';
export * from './source';
export * from './store';
export * from './storedBefore';
export * from './substatus';
export * from './version';
