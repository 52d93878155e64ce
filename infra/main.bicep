// Altinn application owner system: everything it needs in the owner's own subscription.
//
// Structure and naming follow Azure-Samples/functions-quickstart-typescript-azd (subscription
// scope, one resource group, modules under app/, abbreviations.json, azd-env-name and
// azd-service-name tags), with plain resource declarations instead of registry modules so
// that the templates build offline. Deploy with `azd up`, or with `az deployment sub create`
// (docs/deploy.md).
//
// After deployment the only manual steps are: put the Maskinporten key into the Key Vault
// (output MASKINPORTEN_KEY_COMMAND) and drop the first subscription file into the
// add-subscriptions container (docs/deploy.md). Subscription files are picked up by timer
// functions (SubscriptionsSchedule), so no Event Grid subscription and no system key is needed.
//
// Every parameter is mapped to an azd environment variable in main.parameters.json
// (`${VAR=default}`, or `${VAR}` where the default is computed here), so that `azd env set`
// reaches each one; test/infra/parameters.test.ts keeps the two files in step.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the environment (the azd environment name). Names the resource group and seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Region for all resources. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the person or pipeline that deploys. It gets Key Vault Secrets Officer on the vault (to put the Maskinporten key in) and Storage Blob Data Contributor on the add-subscriptions and remove-subscriptions containers only (to drop subscription files). Empty: no access for people.')
param principalId string = deployer().objectId

@description('Resource group name. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function app name. Default: func-aos-<unique suffix>.')
param functionAppName string = ''

@description('Storage account name (3-24 lower-case letters and digits). Default: st<unique suffix>.')
param storageAccountName string = ''

@description('Key Vault name (3-24 characters). Default: kv-<unique suffix>. A deleted vault keeps its name for the soft-delete period (purge protection), so a redeployment after a deletion needs a new name or `az keyvault recover`.')
param keyVaultName string = ''

// ---------------------------------------------------------------------------------------------
// Hosting
// ---------------------------------------------------------------------------------------------

@minValue(1)
@maxValue(1000)
@description('Upper bound of Flex Consumption instances. There are no always-ready instances: the app scales to zero when idle.')
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
@description('Memory per Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(30)
@maxValue(730)
@description('Days Log Analytics (and so Application Insights) keeps telemetry.')
param logRetentionInDays int = 30

@minValue(7)
@maxValue(90)
@description('Days a deleted Key Vault or secret can be recovered. Fixed once the vault exists.')
param keyVaultSoftDeleteRetentionInDays int = 90

// ---------------------------------------------------------------------------------------------
// Network isolation (app/network.bicep, app/privateEndpoints.bicep)
// ---------------------------------------------------------------------------------------------

@description('Puts the function app in a virtual network and reaches Storage (blob, queue, table) and Key Vault only through private endpoints, with their public network access disabled, as the anchor template\'s vnetEnabled does. The webhook stays reachable for Altinn.')
param vnetEnabled bool = false

@description('With vnetEnabled: the virtual network\'s address space.')
param vnetAddressPrefix string = '10.0.0.0/16'

@description('With vnetEnabled: the subnet of the private endpoints.')
param privateEndpointSubnetPrefix string = '10.0.1.0/24'

@description('With vnetEnabled: the subnet of the function app\'s virtual network integration (delegated to Microsoft.App/environments).')
param appSubnetPrefix string = '10.0.2.0/24'

@description('Comma separated IPv4 ranges that may call the function app: Altinn Events\' outbound address for the webhook (production 20.100.46.139/32, TT02 20.100.24.41/32, docs.altinn.studio/events/subscribe-to-events) and your operators\' for the status page. Empty: any address.')
param allowedInboundIpRanges string = ''

// ---------------------------------------------------------------------------------------------
// Retention and backup (app/storage.bicep, app/retention.bicep)
// ---------------------------------------------------------------------------------------------

@minValue(1)
@maxValue(365)
@description('Days a deleted or overwritten blob (a stored submission, for example), or a deleted container, can be recovered.')
param blobSoftDeleteRetentionInDays int = 7

@description('Blob versioning: an overwritten or deleted blob keeps its previous version.')
param blobVersioning bool = false

@minValue(0)
@description('With blobVersioning: days after which a previous version is deleted. 0: kept until deleted by hand.')
param previousVersionsDeleteAfterDays int = 0

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
@description('Storage redundancy. Production: Standard_ZRS (three zones of the region) or Standard_GZRS (and the paired region).')
param storageSkuName string = 'Standard_LRS'

@minValue(0)
@description('Days after they are stored when submissions in container inbound move to the Cool tier. 0: never.')
param inboundCoolAfterDays int = 0

@minValue(0)
@description('Days after they are stored when submissions in container inbound are deleted. 0: never.')
param inboundDeleteAfterDays int = 0

@minValue(0)
@description('Days after they are stored when Broker files in container broker move to the Cool tier. 0: never.')
param brokerCoolAfterDays int = 0

@minValue(0)
@description('Days after they are stored when Broker files in container broker are deleted. 0: never.')
param brokerDeleteAfterDays int = 0

@minValue(0)
@description('Days after they are stored when infected elements in container quarantine are deleted. 0: never.')
param quarantineDeleteAfterDays int = 0

@description('A CanNotDelete lock on the storage account: nobody (azd down included) can delete it, and with it every submission, until the lock is removed.')
param storageDeleteLock bool = false

// ---------------------------------------------------------------------------------------------
// Operators (app/rbac.bicep)
// ---------------------------------------------------------------------------------------------

@description('Object id of the operators\' Entra group: read access to submissions and the ledger, poison replay, subscription files, the logs (Storage Explorer, npm run aos -- --account). Empty: none.')
param operatorPrincipalId string = ''

@allowed([
  'Group'
  'User'
  'ServicePrincipal'
])
@description('What operatorPrincipalId is.')
param operatorPrincipalType string = 'Group'

// ---------------------------------------------------------------------------------------------
// Alerts (app/alerts.bicep)
// ---------------------------------------------------------------------------------------------

@description('Email address that receives the alerts (poison messages, unconfirmed instances, subscription problems, failed catch-up or reconciliation runs, Broker files never confirmed). Empty: the alerts fire without a receiver.')
param alertEmail string = ''

@minValue(1)
@description('Hours an instance complete in Altinn may stay unconfirmed by this system before it raises an alert.')
param alertUnconfirmedHours int = 24

@description('Resource id of an existing action group (on-call routing, a ticket system) every alert also notifies. Empty: only the email of alertEmail.')
param actionGroupId string = ''

@minValue(1)
@description('Days before the Maskinporten certificate expires when an alert is raised.')
param alertCertificateExpiryDays int = 30

@minValue(1)
@description('Hours a hand-off message may wait on instances-received before an alert is raised.')
param alertHandoffWaitingHours int = 24

@minValue(1)
@maxValue(24)
@description('Hours an instance confirmed to Altinn may go without its instances-received message before it raises an alert.')
param alertNotHandedOffHours int = 1

// ---------------------------------------------------------------------------------------------
// App settings read by the code (shared/settings.ts). Defaults target TT02; see docs/deploy.md
// for production values.
// ---------------------------------------------------------------------------------------------

@minLength(2)
@description('Altinn organisation code of the application owner (ttd in TT02 tests).')
param org string

@description('AltinnPlatformBaseUrl: Altinn platform origin. Production: https://platform.altinn.no')
param altinnPlatformBaseUrl string = 'https://platform.tt02.altinn.no'

@description('AltinnAppsBaseUrl: the owner\'s apps origin. Production: https://<org>.apps.altinn.no')
param altinnAppsBaseUrl string = 'https://${org}.apps.tt02.altinn.no'

@description('MaskinportenBaseUrl: Maskinporten issuer. Production: https://maskinporten.no')
param maskinportenBaseUrl string = 'https://test.maskinporten.no'

@minLength(1)
@description('MaskinportenClientId: the owner\'s Maskinporten client id.')
param maskinportenClientId string

@description('MaskinportenScopes: scopes to request, space separated. Broker adds altinn:broker.read and altinn:events.subscribe.')
param maskinportenScopes string = 'altinn:serviceowner/instances.read altinn:serviceowner/instances.write'

@minLength(1)
@description('MaskinportenSecretName: name of the Key Vault secret that holds the Maskinporten signing key.')
param maskinportenSecretName string = 'maskinporten-key'

@description('MaskinportenKid: key id registered on the Maskinporten client. Empty: the grant carries the certificate (x5c).')
param maskinportenKid string = ''

@description('AltinnTestMode: true adds test=true to the token exchange.')
param altinnTestMode bool = false

@description('ProcessedEventTypes: event types the processor downloads, comma or space separated.')
param processedEventTypes string = 'app.instance.process.completed'

@description('SubstatusLabel: substatus label set on each instance after complete (shown in the citizen\'s inbox). Empty: no substatus.')
param substatusLabel string = ''

@description('SubstatusDescription: substatus description set together with SubstatusLabel.')
param substatusDescription string = ''

@description('FeedbackEventType: event type after which feedback is uploaded. Empty: no feedback.')
param feedbackEventType string = ''

@description('FeedbackDataType: data type of the feedback element. Required together with FeedbackEventType.')
param feedbackDataType string = ''

@allowed(['application/xml', 'text/xml', 'application/json', 'text/plain', 'text/csv', 'text/html', 'application/pdf'])
@description('FeedbackContentType: content type of the feedback element; the file name gets the extension the app expects for it.')
param feedbackContentType string = 'application/xml'

@description('FeedbackTemplatePath: XML template for feedback. Empty: the built-in receipt.')
param feedbackTemplatePath string = ''

@minValue(1)
@maxValue(64)
@description('DownloadConcurrency: data elements downloaded at once per instance.')
param downloadConcurrency int = 16

@minValue(1)
@maxValue(3600)
@description('HttpTimeoutSeconds: timeout for connecting to Altinn and for each pause in a response body.')
param httpTimeoutSeconds int = 100

@minValue(0)
@maxValue(600)
@description('HttpRetryBudgetSeconds: how long one Altinn call may keep retrying transient failures.')
param httpRetryBudgetSeconds int = 60

@minValue(1)
@maxValue(168)
@description('ScanWaitHours: how long an instance whose data element Altinn still scans (Pending) is checked again before it fails.')
param scanWaitHours int = 24

@minValue(1)
@maxValue(3600)
@description('ScanRecheckSeconds: how long the event of an instance with a Pending scan waits before the instance is looked at again.')
param scanRecheckSeconds int = 300

@minValue(1)
@maxValue(10020)
@description('ProcessEndWaitMinutes: how long a completed event for an instance whose process has not ended is checked again before it is recorded and left for catch-up and reconciliation.')
param processEndWaitMinutes int = 60

@description('CatchUpApps: the apps of this deployment, as org/app, comma separated (with azd: ALTINN_APPS). Catch-up and reconciliation run for them unless catchUpEnabled or reconcileEnabled is false. Empty: nothing recovers a lost webhook push, and the status page says so.')
param catchUpApps string = ''

@description('CatchUpEnabled: false turns the catch-up off (EventsCatchUp and BrokerCatchUp).')
param catchUpEnabled bool = true

@description('CatchUpSchedule: six-field NCRONTAB schedule (UTC) of the catch-up timers.')
param catchUpSchedule string = '0 */10 * * * *'

@description('CatchUpFrom: where the first catch-up starts (ISO 8601 with time zone). Empty: the code\'s default.')
param catchUpFrom string = ''

@description('ReconcileApps: apps reconciled against Altinn Storage, as org/app, comma separated. Empty: CatchUpApps.')
param reconcileApps string = ''

@description('ReconcileEnabled: false turns reconciliation against Altinn Storage off.')
param reconcileEnabled bool = true

@description('ReconcileSchedule: six-field NCRONTAB schedule (UTC) of reconciliation against Altinn Storage.')
param reconcileSchedule string = '0 0 * * * *'

@description('SubscriptionsSchedule: six-field NCRONTAB schedule (UTC) on which subscription files are picked up.')
param subscriptionsSchedule string = '0 */1 * * * *'

@description('BrokerResources: Broker resource ids whose files are downloaded, comma separated. Empty: no Broker.')
param brokerResources string = ''

@description('HandoffWatchSchedule: six-field NCRONTAB schedule (UTC) on which the age of the oldest hand-off message is logged.')
param handoffWatchSchedule string = '0 */15 * * * *'

@description('AcceptedApps: apps whose events are processed, as org/app, comma separated; events for others go to poison with the reason. Empty: every app.')
param acceptedApps string = ''

@description('PoisonKeeperSchedule: six-field NCRONTAB schedule (UTC) on which the host\'s poison messages are kept without expiry.')
param poisonKeeperSchedule string = '0 */30 * * * *'

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var appName = toLower(!empty(functionAppName) ? functionAppName : '${abbrs.webSitesFunctions}aos-${resourceToken}')
var storageName = !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
var vaultName = !empty(keyVaultName) ? keyVaultName : '${abbrs.keyVaultVaults}${resourceToken}'
// The Flex Consumption deployment package container, named as in the quickstart.
var deploymentContainerName = 'app-package-${take(appName, 32)}-${take(toLower(uniqueString(appName, resourceToken)), 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module identity './app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}aos-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageName
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    blobSoftDeleteRetentionInDays: blobSoftDeleteRetentionInDays
    blobVersioning: blobVersioning
    skuName: storageSkuName
    publicNetworkAccess: !vnetEnabled
  }
}

module keyVault './app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: vaultName
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    publicNetworkAccess: !vnetEnabled
  }
}

module network './app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    appSubnetPrefix: appSubnetPrefix
  }
}

module privateEndpoints './app/privateEndpoints.bicep' = if (vnetEnabled) {
  name: 'privateEndpoints'
  scope: rg
  params: {
    namePrefix: '${abbrs.networkPrivateEndpoints}${resourceToken}'
    location: location
    tags: tags
    virtualNetworkId: network!.outputs.id
    subnetId: network!.outputs.privateEndpointSubnetId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
  }
}

module audit './app/audit.bicep' = {
  name: 'audit'
  scope: rg
  params: {
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
  }
}

module retention './app/retention.bicep' = {
  name: 'retention'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    containerRetention: [
      {
        container: 'inbound'
        coolAfterDays: inboundCoolAfterDays
        deleteAfterDays: inboundDeleteAfterDays
      }
      {
        container: 'broker'
        coolAfterDays: brokerCoolAfterDays
        deleteAfterDays: brokerDeleteAfterDays
      }
      {
        container: 'quarantine'
        coolAfterDays: 0
        deleteAfterDays: quarantineDeleteAfterDays
      }
    ]
    previousVersionsDeleteAfterDays: blobVersioning ? previousVersionsDeleteAfterDays : 0
    deleteLock: storageDeleteLock
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module functionApp './app/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  // The host starts as soon as the app exists; with its roles (and, with vnetEnabled, the private
  // endpoints) in place first it does not begin with failed storage calls.
  dependsOn: [
    rbac
    privateEndpoints
  ]
  params: {
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    virtualNetworkSubnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
    allowedInboundIpRanges: allowedInboundIpRanges
    altinnPlatformBaseUrl: altinnPlatformBaseUrl
    altinnAppsBaseUrl: altinnAppsBaseUrl
    maskinportenBaseUrl: maskinportenBaseUrl
    maskinportenClientId: maskinportenClientId
    maskinportenScopes: maskinportenScopes
    maskinportenKeyVaultUri: keyVault.outputs.uri
    maskinportenSecretName: maskinportenSecretName
    maskinportenKid: maskinportenKid
    altinnTestMode: altinnTestMode
    processedEventTypes: processedEventTypes
    substatusLabel: substatusLabel
    substatusDescription: substatusDescription
    feedbackEventType: feedbackEventType
    feedbackDataType: feedbackDataType
    feedbackContentType: feedbackContentType
    feedbackTemplatePath: feedbackTemplatePath
    downloadConcurrency: downloadConcurrency
    httpTimeoutSeconds: httpTimeoutSeconds
    httpRetryBudgetSeconds: httpRetryBudgetSeconds
    scanWaitHours: scanWaitHours
    scanRecheckSeconds: scanRecheckSeconds
    processEndWaitMinutes: processEndWaitMinutes
    catchUpApps: catchUpApps
    catchUpEnabled: catchUpEnabled
    catchUpSchedule: catchUpSchedule
    catchUpFrom: catchUpFrom
    reconcileApps: reconcileApps
    reconcileEnabled: reconcileEnabled
    reconcileSchedule: reconcileSchedule
    subscriptionsSchedule: subscriptionsSchedule
    brokerResources: brokerResources
    handoffWatchSchedule: handoffWatchSchedule
    acceptedApps: acceptedApps
    poisonKeeperSchedule: poisonKeeperSchedule
  }
}

module alerts './app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
    namePrefix: 'aos-${resourceToken}'
    alertEmail: alertEmail
    alertUnconfirmedHours: alertUnconfirmedHours
    actionGroupId: actionGroupId
    alertCertificateExpiryDays: alertCertificateExpiryDays
    alertHandoffWaitingHours: alertHandoffWaitingHours
    alertNotHandedOffHours: alertNotHandedOffHours
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd stores them in .azure/<env>/.env). None of them is a secret.
// ---------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name

@description('The Altinn Events webhook, without its key: a subscription\'s endPoint is this plus ?code=<function key>.')
output WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/eventsreceiver'

@description('Prints the EventsReceiver function key (exists once the code is deployed).')
output FUNCTION_KEY_COMMAND string = 'az functionapp function keys list --resource-group ${rg.name} --name ${functionApp.outputs.name} --function-name EventsReceiver --query default --output tsv'

@description('The status page, without its key: open it in a browser with ?code=<function key> (STATUS_KEY_COMMAND).')
output STATUS_URL string = 'https://${functionApp.outputs.defaultHostName}/api/status'

@description('Prints the Status function key.')
output STATUS_KEY_COMMAND string = 'az functionapp function keys list --resource-group ${rg.name} --name ${functionApp.outputs.name} --function-name Status --query default --output tsv'

output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output MASKINPORTEN_SECRET_NAME string = maskinportenSecretName

@description('Stores the Maskinporten key (PEM file with private key and certificate, or a private JWK) as a new secret version.')
output MASKINPORTEN_KEY_COMMAND string = 'az keyvault secret set --vault-name ${keyVault.outputs.name} --name ${maskinportenSecretName} --file <key-file>'

@description('Drops a subscription file; the EventsSubscriber timer registers it with Altinn.')
output ADD_SUBSCRIPTION_COMMAND string = 'az storage blob upload --auth-mode login --account-name ${storage.outputs.name} --container-name add-subscriptions --name <name>.json --file <name>.json'
