/** The deployment check (`GET /api/check`, `aos check`): see run.ts for what it checks and in which order. */
export * from './html';
export * from './report';
export * from './run';
export * from './text';
