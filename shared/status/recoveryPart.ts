/**
 * Whether a submission whose webhook push was lost is still recovered: the catch-up (Events query
 * API) and reconciliation (Altinn Storage) run for the deployment's apps (CatchUpApps) unless
 * CatchUpEnabled or ReconcileEnabled turns them off. With either off, or with no apps named, a lost
 * push stays lost and the unconfirmed and run-failed alerts cannot fire: the status page, `aos
 * status` and the deployment check say so in words (`recoveryWarnings`).
 */
import type { AppConfig } from '../config';

export type RecoveryConfig = Pick<AppConfig, 'catchUpApps' | 'reconcileApps' | 'recovery'>;

export interface RecoveryStatus {
    /** CatchUpEnabled, and apps to catch up. */
    catchUp: 'on' | 'off' | 'no-apps';
    /** ReconcileEnabled, and apps to reconcile. */
    reconcile: 'on' | 'off' | 'no-apps';
    /** `{org}/{app}` caught up but not reconciled, or reconciled but not caught up (ReconcileApps names others). */
    partial: string[];
    /** One sentence per gap; empty when every named app is caught up and reconciled. */
    warnings: string[];
}

const names = (apps: RecoveryConfig['catchUpApps']): string[] => apps.map(({ org, app }) => `${org}/${app}`);

export function recoveryStatus(config: RecoveryConfig): RecoveryStatus {
    const caughtUp = names(config.catchUpApps);
    const reconciled = names(config.reconcileApps);
    const catchUp = !config.recovery.catchUp ? 'off' : caughtUp.length === 0 ? 'no-apps' : 'on';
    const reconcile = !config.recovery.reconcile ? 'off' : reconciled.length === 0 ? 'no-apps' : 'on';
    // An app one mechanism covers and the other, though on, does not (ReconcileApps names other apps).
    const partial = [
        ...(catchUp === 'on' && reconcile !== 'off' ? caughtUp.filter((app) => !reconciled.includes(app)) : []),
        ...(reconcile === 'on' && catchUp !== 'off' ? reconciled.filter((app) => !caughtUp.includes(app)) : []),
    ];
    const warnings: string[] = [];
    if (catchUp === 'off') {
        warnings.push(
            'Catch-up is turned off (CatchUpEnabled=false): events and Broker files whose webhook push was lost are never fetched again.',
        );
    }
    if (reconcile === 'off') {
        warnings.push(
            'Reconciliation is turned off (ReconcileEnabled=false): an instance complete in Altinn that no event announced is never found, and the unconfirmed alert cannot fire.',
        );
    }
    if (caughtUp.length === 0 && reconciled.length === 0 && (catchUp !== 'off' || reconcile !== 'off')) {
        warnings.push(
            'No apps are named (CatchUpApps; with azd ALTINN_APPS): an instance whose webhook push is lost is never fetched again, and the unconfirmed and run-failed alerts cannot fire. A Broker-only deployment can ignore this.',
        );
    }
    if (partial.length > 0) {
        warnings.push(
            `Not both caught up and reconciled (CatchUpApps and ReconcileApps differ), so recovery is incomplete for: ${partial.join(', ')}.`,
        );
    }
    return { catchUp, reconcile, partial, warnings };
}

/** The sentences the status page, `aos status` and the deployment check show while recovery is incomplete. */
export function recoveryWarnings(config: RecoveryConfig): string[] {
    return recoveryStatus(config).warnings;
}
