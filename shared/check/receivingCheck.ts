/**
 * What the system receives from: each configured app is known to Storage (its application metadata)
 * and answers Storage's instance query (size=1), so the app name, the scopes and the org agree with Altinn; each Broker resource answers the file
 * transfer list, or Broker's NoAccessToResource is named as such.
 */
import { AltinnHttpError, problemSummary } from '../altinn/errors';
import { createBrokerClient, isNoAccessToResource } from '../altinn/broker';
import { createStorageApi } from '../altinn/storage';
import type { AltinnStack } from '../altinn';
import type { AppConfig, AppRef } from '../config';
import { errorMessage } from '../log';
import { failed, ok, timed, type CheckResult, type Finding } from './report';

/** The apps the settings name, once each: catch-up and reconciliation. */
export function configuredApps(config: Pick<AppConfig, 'catchUpApps' | 'reconcileApps'>): AppRef[] {
    const seen = new Map<string, AppRef>();
    for (const app of [...config.catchUpApps, ...config.reconcileApps]) seen.set(`${app.org}/${app.app}`, app);
    return [...seen.values()];
}

function altinnSaid(error: unknown): string {
    if (!(error instanceof AltinnHttpError)) return errorMessage(error);
    const said = problemSummary(error.problem) ?? error.bodyText;
    return `${error.status ?? error.code ?? 'failed'}${said ? `: ${said}` : ''}`;
}

export async function checkApps(config: AppConfig, stack: AltinnStack, org?: string): Promise<CheckResult[]> {
    const storage = createStorageApi(stack.http, config);
    return Promise.all(
        configuredApps(config).map((app) =>
            timed('apps', `App ${app.org}/${app.app}`, async (): Promise<Finding> => {
                if (org && app.org !== org) {
                    return failed(
                        `the Altinn token is for org ${org}, not ${app.org}: Storage would refuse the query`,
                        'use the Maskinporten client of the app owner, or fix the org in CatchUpApps/ReconcileApps',
                    );
                }
                try {
                    if (!(await storage.applicationExists(app.org, app.app))) {
                        return failed(
                            `Storage knows no app ${app.org}/${app.app} (its application metadata answered 404)`,
                            "check the app name in CatchUpApps/ReconcileApps: org/app as in the app's URL, and AltinnPlatformBaseUrl (test or production)",
                        );
                    }
                    const page = await storage.queryInstances(storage.unconfirmedInstancesUrl(app.org, app.app, 1));
                    const waiting = page.instances.length > 0 ? 'at least one' : 'no';
                    return ok(`Storage's instance query answers: ${waiting} instance complete and not confirmed`);
                } catch (error) {
                    const status = error instanceof AltinnHttpError ? error.status : undefined;
                    const action =
                        status === 403 || status === 401
                            ? `the client needs altinn:serviceowner/instances.read, and org ${app.org} must own the app`
                            : 'check the app name and AltinnPlatformBaseUrl';
                    return failed(`Storage answered ${altinnSaid(error)}`, action);
                }
            }),
        ),
    );
}

export async function checkBroker(config: AppConfig, stack: AltinnStack): Promise<CheckResult[]> {
    const broker = createBrokerClient(stack.http, config);
    return Promise.all(
        config.brokerResources.map((resourceId) =>
            timed('broker', `Broker resource ${resourceId}`, async (): Promise<Finding> => {
                try {
                    const ids = await broker.list({ resourceId });
                    return ok(`the file transfer list answers (${ids.length} transfer(s))`);
                } catch (error) {
                    if (isNoAccessToResource(error)) {
                        return failed(
                            `Broker refused resource ${resourceId} with NoAccessToResource: this organisation is not given access to it`,
                            `check the resource id, and ask the resource owner to give your organisation access to ${resourceId} in Altinn's resource registry`,
                        );
                    }
                    const status = error instanceof AltinnHttpError ? error.status : undefined;
                    return failed(
                        `Broker answered ${altinnSaid(error)}`,
                        status === 403
                            ? 'the client needs the scope altinn:broker.read'
                            : 'check the resource id and AltinnPlatformBaseUrl',
                    );
                }
            }),
        ),
    );
}
