// Alerts on what the code logs: an action group (email, optional) and one scheduled query rule per
// condition an operator must act on. Each query reads the logfmt lines the functions write to
// Application Insights `traces` (shared/log.ts: `step=… key=value …`, quoted values escaped), or
// the Functions host's own line for a message moved to a poison queue. test/infra/alerts.test.ts
// checks every query against lines formatted by the code's own formatter with the step names the
// code uses, so a renamed step or field breaks the test rather than silently the alert.
// Every rule counts `traces` rows (host-start-failed `exceptions` too), so host.json keeps both out of
// Application Insights' adaptive sampling (samplingSettings.excludedTypes): a sampled-out row would be a
// missed alert. Each rule's
// window equals its frequency, so one line raises one alert, not one per overlapping window.

@description('Application Insights component whose traces the rules query.')
param applicationInsightsName string

@description('Region of the rules (the action group is global).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Prefix of the rule and action group names.')
param namePrefix string

@description('Email address that receives the alerts. Empty: the action group has no receiver (add one in the portal, or wire the rules to your own action group).')
param alertEmail string = ''

@minValue(1)
@description('An instance complete in Altinn and not confirmed by this system for longer than this many hours raises an alert (from the reconciliation run line).')
param alertUnconfirmedHours int = 24

@minValue(1)
@description('A file sent through Broker that not every recipient has confirmed downloaded after this many hours raises an alert (from the sender-side catch-up\'s run line).')
param alertUnconfirmedSentHours int = 72
@description('Resource id of an existing action group (the agency\'s on-call routing, a ticket system, Teams) that every rule notifies as well. Empty: only this deployment\'s own action group.')
param actionGroupId string = ''

@minValue(1)
@description('The Maskinporten certificate expiring within this many days raises an alert (from the signing-key line the app writes when it loads the key).')
param alertCertificateExpiryDays int = 30

@minValue(1)
@description('A hand-off message waiting on instances-received for longer than this many hours (the case systems are not taking them) raises an alert.')
param alertHandoffWaitingHours int = 24

@minValue(1)
@maxValue(24)
@description('An instance confirmed to Altinn (complete) with no instances-received message for longer than this many hours raises an alert (from the confirmed and handed-off lines).')
param alertNotHandedOffHours int = 1

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-alerts'
  location: 'Global'
  tags: tags
  properties: {
    // At most 12 characters: it is the sender name of SMS and email.
    groupShortName: 'aos-alerts'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// The logfmt of shared/log.ts, as parse-kv reads it (docs/failures.md, "Where to look").
var kv = 'with (pair_delimiter=\' \', kv_delimiter=\'=\', quote=\'"\', escape=\'\\\\\')'

var rules = [
  {
    name: 'poison-message'
    displayName: 'A message was moved to a poison queue'
    description: 'The Functions host gave up on a queue message after maxDequeueCount attempts and moved it to <queue>-poison (poison messages expire after 7 days). See `npm run aos -- poison list` and the status page.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    // The host's own warning (azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.Storage.Queues QueueProcessor.CopyMessageToPoisonQueueAsync).
    query: 'traces\n| where message startswith "Message has reached MaxDequeueCount of"\n| parse message with * "Moving message to queue \'" poisonQueue "\'" *\n| project timestamp, poisonQueue, message'
  }
  {
    name: 'unconfirmed-instance'
    displayName: 'An instance complete in Altinn is not confirmed'
    description: 'The reconciliation found an instance complete in Altinn that this system has not confirmed for longer than ${alertUnconfirmedHours} hours. See the status page and `npm run aos -- ledger show <instanceId>`.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: 'traces\n| where message startswith "step=reconcile-run "\n| parse-kv message as (step:string, app:string, unconfirmed:long, oldestUnconfirmedHours:real) ${kv}\n| where step == "reconcile-run" and unconfirmed > 0 and oldestUnconfirmedHours > ${alertUnconfirmedHours}\n| project timestamp, app, unconfirmed, oldestUnconfirmedHours'
  }
  {
    name: 'subscription-problem'
    displayName: 'A subscription was refused, or Altinn lost or never validated one'
    description: 'A subscription request was moved to failed-subscriptions (read the reason there), or the self-check found an active subscription that Altinn no longer has or has not validated after an hour. See the status page.'
    severity: 2
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| where message startswith "step=subscription-"\n| parse-kv message as (step:string, name:string, subscriptionId:string, reason:string, error:string) ${kv}\n| where step in ("subscription-refused", "subscription-check-failed")\n| project timestamp, step, name, subscriptionId, reason, error'
  }
  {
    name: 'run-failed'
    displayName: 'A catch-up or reconciliation run failed'
    description: 'EventsCatchUp, BrokerCatchUp or InstancesReconcile failed for an app or resource, or a reconciliation run stopped before the last page of Storage\'s answer (step reconcile-truncated); the next schedule tries again, but until one succeeds nothing missed is recovered. The error names the cause and the setting.'
    severity: 2
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| where message startswith "step="\n| parse-kv message as (step:string, stopped:string, app:string, resourceId:string, error:string) ${kv}\n| where (step == "catch-up" and stopped == "error") or step in ("catchup-failed", "reconcile-failed", "reconcile-truncated")\n| project timestamp, step, app, resourceId, error'
  }
  {
    name: 'broker-never-confirmed'
    displayName: 'A Broker file was never confirmed downloaded'
    description: 'Altinn Broker reports a file sent to this owner that was never confirmed downloaded (no.altinn.broker.fileneverconfirmeddownloaded). Look for it in broker-inbound-poison and on the status page.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| where message startswith "step=broker-never-confirmed "\n| parse-kv message as (step:string, fileTransferId:string, resourceId:string) ${kv}\n| where step == "broker-never-confirmed"\n| project timestamp, fileTransferId, resourceId'
  }
  {
    name: 'broker-upload-failed'
    displayName: 'A file sent through Broker failed'
    description: 'Altinn Broker failed a file this system sent (checksum mismatch, a malware finding, a file too large), or its upload kept breaking: the line names the blob in broker-outbound, the transfer and Broker\'s reason. The case systems got a failed message on broker-sent. See the status page and `npm run aos -- ledger show <fileTransferId>`.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| where message startswith "step=broker-upload-failed "\n| parse-kv message as (step:string, blob:string, resourceId:string, fileTransferId:string, reason:string) ${kv}\n| where step == "broker-upload-failed"\n| project timestamp, blob, resourceId, fileTransferId, reason'
  }
  {
    name: 'broker-sent-unconfirmed'
    displayName: 'A file sent through Broker is not confirmed by every recipient'
    description: 'The sender-side catch-up found a file sent through Broker that not every recipient has confirmed downloaded ${alertUnconfirmedSentHours} hours after it was sent. See the status page (Files sent through Broker) and `npm run aos -- ledger show <fileTransferId>`; ask the recipients, or let Broker expire it.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: 'traces\n| where message startswith "step=broker-sent-run "\n| parse-kv message as (step:string, resourceId:string, unconfirmed:long, oldestUnconfirmedHours:real, oldestUnconfirmedId:string) ${kv}\n| where step == "broker-sent-run" and unconfirmed > 0 and oldestUnconfirmedHours > ${alertUnconfirmedSentHours}\n| project timestamp, resourceId, unconfirmed, oldestUnconfirmedHours, oldestUnconfirmedId'
  }
  {
    name: 'certificate-expiring'
    displayName: 'The Maskinporten certificate expires soon'
    description: 'The certificate sent with the Maskinporten grant (x5c) expires within ${alertCertificateExpiryDays} days; when it has expired no token can be had and nothing is downloaded. Order a new enterprise certificate and rotate the key (docs/deploy.md, "Rotate the Maskinporten key").'
    severity: 2
    evaluationFrequency: 'P1D'
    windowSize: 'P1D'
    // The app writes the line each time it loads the key (a new process, and again after MaskinportenKeyMaxAgeMinutes).
    query: 'traces\n| where message startswith "step=signing-key "\n| parse-kv message as (step:string, kid:string, certificateExpiresAt:string, certificateExpiresInDays:real) ${kv}\n| where step == "signing-key" and certificateExpiresInDays < ${alertCertificateExpiryDays}\n| summarize arg_min(certificateExpiresInDays, *) by kid\n| project kid, certificateExpiresAt, certificateExpiresInDays'
  }
  {
    name: 'handoff-waiting'
    displayName: 'Hand-off messages are not being taken'
    description: 'The oldest message on instances-received has waited longer than ${alertHandoffWaitingHours} hours: the case systems are not taking hand-offs. Messages do not expire (time-to-live -1), so nothing is lost, but nothing is being processed either. See the queue in Storage Explorer.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: 'traces\n| where message startswith "step=handoff-waiting "\n| parse-kv message as (step:string, queue:string, messages:long, oldestHours:real) ${kv}\n| where step == "handoff-waiting" and oldestHours > ${alertHandoffWaitingHours}\n| project timestamp, queue, messages, oldestHours'
  }
  {
    name: 'host-start-failed'
    displayName: 'The Functions host failed to start'
    description: 'The Functions host could not start the app (a function that fails to load, a missing setting the host needs, a broken deployment): no webhook is answered and no queue is read until it does. The error is in the exceptions (or traces) beside this line.'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    // The host's own error (azure-functions-host ScriptHostServiceLoggerExtension.cs, EventId 515), logged with its
    // exception: Application Insights keeps such a log in exceptions with the text in customDimensions.FormattedMessage
    // and the template in prop__{OriginalFormat} (azure-webjobs-sdk LogConstants), without one in traces.message.
    query: 'union traces, exceptions\n| extend text = coalesce(message, tostring(customDimensions.FormattedMessage), tostring(customDimensions["prop__{OriginalFormat}"]))\n| where text startswith "A host error has occurred during startup operation"\n| project timestamp, cloud_RoleInstance, text, outerMessage'
  }
  {
    name: 'infected'
    displayName: 'A data element was infected'
    description: 'Altinn\'s malware scan found a data element Infected: its bytes are in container quarantine (at the same path as in inbound), not in inbound, and the manifest marks it quarantined; the instance is stored and confirmed. The line names the instance and the element. Deal with the file before anyone opens it.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // The instance id comes with the pipeline's common fields (spread into the line), so the whole line is projected too.
    query: 'traces\n| where message startswith "step=infected "\n| parse-kv message as (step:string, dataElementId:string, dataType:string, container:string) ${kv}\n| where step == "infected"\n| project timestamp, dataElementId, dataType, container, message'
  }
  {
    name: 'process-not-ended'
    displayName: 'A completed event came for an instance whose process has not ended'
    description: 'An app.instance.process.completed event (after ProcessEndWaitMinutes of rechecks), or process/next after feedback, left an instance whose process Altinn says has not ended: nothing was confirmed. Catch-up and reconciliation confirm it once the process ends; a forged event or a type filter set too wide is worth a look. See the status page and `npm run aos -- ledger not-ended`.'
    severity: 2
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| where message startswith "step=process-not-ended "\n| parse-kv message as (step:string, instanceId:string, eventType:string, task:string, after:string) ${kv}\n| where step == "process-not-ended"\n| project timestamp, instanceId, eventType, task, after'
  }
  {
    name: 'not-handed-off'
    displayName: 'An instance confirmed to Altinn was not handed off'
    description: 'An instance was confirmed to Altinn (complete) more than ${alertNotHandedOffHours} hour(s) ago and no instances-received message followed: Altinn may purge it while no case system knows of it. Its event waits in events-confirmation or events-confirmation-poison. See the status page and `npm run aos -- ledger not-handed-off`.'
    severity: 1
    evaluationFrequency: 'PT1H'
    windowSize: 'PT${alertNotHandedOffHours + 2}H'
    // Each confirmation is looked at once, in the hour it turns alertNotHandedOffHours old; a hand-off at any time since counts.
    query: 'traces\n| where message startswith "step="\n| parse-kv message as (step:string, instanceId:string) ${kv}\n| where step in ("confirmed", "handed-off", "handoff-skipped") and isnotempty(instanceId)\n| summarize confirmedAt = minif(timestamp, step == "confirmed"), handedOffAt = maxif(timestamp, step in ("handed-off", "handoff-skipped")) by instanceId\n| where confirmedAt between ((ago(${alertNotHandedOffHours}h) - 1h) .. ago(${alertNotHandedOffHours}h)) and isnull(handedOffAt)\n| project confirmedAt, instanceId'
  }
  {
    name: 'broker-no-access'
    displayName: 'Broker refuses this organisation a resource in BrokerResources'
    description: 'BrokerCatchUp was refused the list of a Broker resource (401 NoAccessToResource or 403): no file sent on it is caught up until the resource, the organisation\'s access or MaskinportenScopes (altinn:broker.read) is fixed. The line names the resource and the setting.'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: 'traces\n| where message startswith "step=catchup-no-access "\n| parse-kv message as (step:string, resourceId:string, setting:string, status:long, detail:string) ${kv}\n| where step == "catchup-no-access"\n| project timestamp, resourceId, setting, status, detail'
  }
  {
    name: 'message-refused'
    displayName: 'A queued message was refused and moved to poison by the code'
    description: 'An instance stage, BrokerProcessor or BrokerSender refused a message that can never succeed (not a CloudEvent, a source that is not an instance on AltinnAppsBaseUrl, an app outside AcceptedApps, a Broker event that cannot be Broker\'s own, a send request Broker would refuse) and moved it to its poison queue itself, with the reason (the host\'s poison line is not written for it). See `npm run aos -- poison list`.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // The event and instance ids come with the stage's common fields (spread into the line), so the whole line is projected too.
    query: 'traces\n| where message startswith "step=refused "\n| parse-kv message as (step:string, reason:string, queue:string) ${kv}\n| where step == "refused"\n| project timestamp, queue, reason, message'
  }
]

// This deployment's group (email), and the agency's own group when given.
var actionGroupIds = concat(
  [
    actionGroup.id
  ],
  empty(actionGroupId)
    ? []
    : [
        actionGroupId
      ]
)

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      // Every occurrence is a new problem to look at; nothing resolves by itself.
      autoMitigate: false
      actions: {
        actionGroups: actionGroupIds
      }
    }
  }
]

output actionGroupId string = actionGroup.id
