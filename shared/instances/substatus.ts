/**
 * The citizen sees that the agency has received the submission: after complete, PUT the
 * instance's substatus ({label, description} from SubstatusLabel and SubstatusDescription), which
 * Altinn's inbox shows. The PUT is idempotent (the same body leaves the same state); still, when
 * complete's answer shows the instance already carries this substatus (a repeated event), it is
 * not sent again, since every PUT moves the instance's lastChanged and publishes
 * app.instance.substatus.changed.
 */
import type { Completed } from '../altinn/apps';
import type { SubstatusConfig } from '../config';
import { logStep, warnStep } from '../log';
import type { InstanceEvent, Pipeline } from './pipeline';

export type SubstatusOutcome = 'set' | 'already-set' | 'gone' | 'not-configured';

export async function setSubstatus(
    { apps, logger, config }: Pick<Pipeline, 'apps' | 'logger' | 'config'>,
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
        warnStep(logger, 'instance-gone', { ...message.fields, reason: 'substatus answered 404; nothing to mark' });
        return 'gone';
    }
    logStep(logger, 'substatus-set', { ...message.fields, label: substatus.label, durationMs: Date.now() - started });
    return 'set';
}
