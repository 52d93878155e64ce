/** The status of the whole system for an operator: gathered from storage (gather.ts), shown as JSON or HTML (html.ts). */
export * from './attention';
export * from './gather';
export * from './html';
export * from './recoveryPart';
export * from './report';
export * from './text';
export * from './submissionPart';
