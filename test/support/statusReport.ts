import { attentionOf, type StatusReport } from '../../shared/status';

/** A status report with nothing in it but `overrides`, and the attention sentences they lead to. */
export function statusReport(overrides: Partial<StatusReport> = {}): StatusReport {
    const base: Omit<StatusReport, 'attention'> = {
        generatedAt: '2026-12-01T02:43:44.123Z',
        windowHours: 24,
        apps: [],
        settled: [],
        brokerResources: [],
        neverConfirmedFiles: [],
        notHandedOff: [],
        processNotEnded: [],
        runs: [],
        catchUpCursors: [],
        poisonQueues: [{ queue: 'events-inbound', poisonQueue: 'events-inbound-poison', messages: 0 }],
        subscriptions: { active: [], failed: [], pending: [], unknownToFiles: [] },
        unavailable: [],
        ...overrides,
    };
    return { ...base, attention: attentionOf(base) };
}
