/**
 * The citizen sees that the agency has received the submission: after complete, PUT the
 * instance's substatus ({label, description} from SubstatusLabel and SubstatusDescription), which
 * Altinn's inbox shows. The PUT is idempotent (the same body leaves the same state); still, when
 * complete's answer shows the instance already carries this substatus (a repeated event), it is
 * not sent again, since every PUT moves the instance's lastChanged and publishes
 * app.instance.substatus.changed.
 *
 * An instance deleted since it was confirmed cannot be marked: Altinn answers that with 500 (see
 * AppsClient.putSubstatus), which one GET tells from a failure. It is recorded in the ledger as gone
 * (shared/ledger/settled.ts) and not retried. Any other failure is thrown: the queue retries it
 * (events-substatus, maxDequeueCount attempts) and then records it in the poison queue and the ledger.
 */
import type { Completed } from '../altinn/apps';
import type { SubstatusConfig } from '../config';
import { ledgerOf, recordGone } from '../ledger';
import { logStep, warnStep } from '../log';
import type { InstanceEvent, Pipeline } from './pipeline';

export type SubstatusOutcome = 'set' | 'already-set' | 'gone' | 'not-configured';

export async function setSubstatus(
    { apps, logger, config, storage }: Pick<Pipeline, 'apps' | 'logger' | 'config' | 'storage'>,
    message: InstanceEvent,
    current?: Completed,
): Promise<SubstatusOutcome> {
    const substatus: SubstatusConfig | undefined = config.substatus;
    if (!substatus) {
        // A message left on events-substatus after the setting was removed.
        logStep(logger, 'substatus-skipped', { ...message.fields, reason: 'SubstatusLabel is not set' });
        return 'not-configured';
    }
    const now = current?.substatus;
    if (now && now.label === substatus.label && (now.description ?? undefined) === substatus.description) {
        logStep(logger, 'substatus-skipped', { ...message.fields, reason: 'already set', label: substatus.label });
        return 'already-set';
    }
    const started = Date.now();
    if (!(await apps.putSubstatus(message.ref.url, substatus, { logger }))) {
        const reason = 'Altinn has no such instance any more; nothing to mark';
        warnStep(logger, 'instance-gone', { ...message.fields, reason });
        await recordGone(ledgerOf(storage), logger, message.subject);
        return 'gone';
    }
    logStep(logger, 'substatus-set', { ...message.fields, label: substatus.label, durationMs: Date.now() - started });
    return 'set';
}
