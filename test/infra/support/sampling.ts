/**
 * Alerts count rows of Application Insights tables; a row that adaptive sampling dropped is an alert
 * that never fires. The Functions host samples every telemetry type that host.json's
 * `logging.applicationInsights.samplingSettings.excludedTypes` (semicolon separated) does not name,
 * unless `samplingSettings.isEnabled` is false (azure-functions-host
 * src/WebJobs.Script/Config/ApplicationInsightsLoggerOptionsSetup.cs ConfigureSampling; the types go to
 * the AdaptiveSamplingTelemetryProcessor in azure-webjobs-sdk
 * src/Microsoft.Azure.WebJobs.Logging.ApplicationInsights/Processors/TelemetryProcessorExtensions.cs),
 * and it keeps sampled types under `maxTelemetryItemsPerSecond` (default 20 per host). Excluded types
 * are never sampled, so neither the rate nor the cap drops them.
 */
import { alertRules } from './alerts';
import type { Infra } from './invariants';

/** The telemetry type (as excludedTypes names it) of each table a rule may count. */
const tableTypes: Record<string, string> = {
    traces: 'Trace',
    requests: 'Request',
    dependencies: 'Dependency',
    exceptions: 'Exception',
    customEvents: 'Event',
    pageViews: 'PageView',
};

interface SamplingSettings {
    isEnabled?: boolean;
    excludedTypes?: string;
}

export function checkAlertsNotSampled(infra: Infra): string[] {
    const host = JSON.parse(infra.hostJson) as {
        logging?: { applicationInsights?: { samplingSettings?: SamplingSettings } };
    };
    const sampling = host.logging?.applicationInsights?.samplingSettings;
    if (sampling?.isEnabled === false) return [];
    const excluded = new Set(
        (sampling?.excludedTypes ?? '')
            .split(';')
            .map((type) => type.trim().toLowerCase())
            .filter(Boolean),
    );
    return alertRules(infra).flatMap((rule) =>
        tablesOf(rule.query).flatMap((table) => {
            const type = tableTypes[table];
            if (!type) return [`alert ${rule.name} counts rows of ${table}, whose telemetry type is unknown`];
            return excluded.has(type.toLowerCase())
                ? []
                : [
                      `alert ${rule.name} counts ${table} rows, which host.json samples (samplingSettings.excludedTypes does not name ${type})`,
                  ];
        }),
    );
}

/** The tables a query starts from: `traces | …`, or `union traces, exceptions | …`. */
function tablesOf(query: string): string[] {
    const union = /^\s*union\s+([\w\s,]+?)\s*(?:\||$)/.exec(query);
    if (union) return union[1].split(',').map((table) => table.trim());
    return [/^\s*(\w+)/.exec(query)?.[1] ?? ''];
}
