// The Flex Consumption (FC1) Linux function app on Node 22, running as the user-assigned
// identity, with an app setting for every setting the code reads (shared/settings.ts).
// No setting holds a secret: storage and Application Insights use the identity, and the
// Maskinporten key stays in Key Vault (only its URI and secret name are settings).
//
// Flex Consumption rejects the classic FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_NODE_DEFAULT_VERSION and WEBSITE_CONTENT* settings: the runtime is functionAppConfig.

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Region.')
param location string

@description('Tags for the plan and the app.')
param tags object = {}

@description('azd service name (azure.yaml services.<name>), set as the azd-service-name tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Storage account for host storage and the deployment package.')
param storageAccountName string

@description('Blob container for the deployment package.')
param deploymentContainerName string

@description('Application Insights component (local auth disabled).')
param applicationInsightsName string

@minValue(1)
@maxValue(1000)
@description('Upper bound of instances.')
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
@description('Memory per instance, in MB.')
param instanceMemoryMB int = 2048

@description('With vnetEnabled: the subnet of the virtual network integration (network.bicep); empty: none. All outbound traffic then leaves through the network, where Storage and Key Vault have private endpoints.')
param virtualNetworkSubnetId string = ''

@description('Comma separated IPv4 ranges (CIDR) that may call the app: Altinn Events\' outbound address for the webhook, and the operators\' addresses for the status page. Empty: any address (the function keys still guard every route).')
param allowedInboundIpRanges string = ''

// Values of the settings in shared/settings.ts (described in main.bicep).
param altinnPlatformBaseUrl string
param altinnAppsBaseUrl string
param maskinportenBaseUrl string
param maskinportenClientId string
param maskinportenScopes string
param maskinportenKeyVaultUri string
param maskinportenSecretName string
param maskinportenKid string
param altinnTestMode bool
param processedEventTypes string
param substatusLabel string
param substatusDescription string
param feedbackEventType string
param feedbackDataType string
param feedbackContentType string
param feedbackTemplatePath string
param downloadConcurrency int
param httpTimeoutSeconds int
param httpRetryBudgetSeconds int
param scanWaitHours int
param scanRecheckSeconds int
param processEndWaitMinutes int
param catchUpApps string
param catchUpEnabled bool
param catchUpSchedule string
param catchUpFrom string
param reconcileApps string
param reconcileEnabled bool
param reconcileSchedule string
param subscriptionsSchedule string
param brokerResources string
param handoffWatchSchedule string
param acceptedApps string
param poisonKeeperSchedule string

var blobServiceUri = 'https://${storageAccountName}.blob.${environment().suffixes.storage}'
var queueServiceUri = 'https://${storageAccountName}.queue.${environment().suffixes.storage}'
var tableServiceUri = 'https://${storageAccountName}.table.${environment().suffixes.storage}'

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var appSettings = {
  // Host storage and the code's storage clients (shared/storage.ts), identity-based: no
  // connection string, no account key.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobServiceUri
  AzureWebJobsStorage__queueServiceUri: queueServiceUri
  // The host writes its diagnostic events to Table storage through AzureWebJobsStorage; without
  // a table endpoint they are lost (AZFD0003, learn.microsoft.com/azure/azure-functions/
  // errors-diagnostics/diagnostic-events/azfd0003; Azure/azure-functions-host#10163).
  AzureWebJobsStorage__tableServiceUri: tableServiceUri
  // Application Insights with Entra authentication. The connection string names the ingestion
  // endpoint and the component; with local auth disabled it admits nothing without a token.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Makes DefaultAzureCredential (the Key Vault client) use the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
  // shared/settings.ts. MaskinportenKey is local development only and deliberately absent.
  AltinnPlatformBaseUrl: altinnPlatformBaseUrl
  AltinnAppsBaseUrl: altinnAppsBaseUrl
  MaskinportenBaseUrl: maskinportenBaseUrl
  MaskinportenClientId: maskinportenClientId
  MaskinportenScopes: maskinportenScopes
  MaskinportenKeyVaultUri: maskinportenKeyVaultUri
  MaskinportenSecretName: maskinportenSecretName
  MaskinportenKid: maskinportenKid
  AltinnTestMode: altinnTestMode ? 'true' : 'false'
  ProcessedEventTypes: processedEventTypes
  SubstatusLabel: substatusLabel
  SubstatusDescription: substatusDescription
  FeedbackEventType: feedbackEventType
  FeedbackDataType: feedbackDataType
  FeedbackContentType: feedbackContentType
  FeedbackTemplatePath: feedbackTemplatePath
  DownloadConcurrency: string(downloadConcurrency)
  HttpTimeoutSeconds: string(httpTimeoutSeconds)
  HttpRetryBudgetSeconds: string(httpRetryBudgetSeconds)
  ScanWaitHours: string(scanWaitHours)
  ScanRecheckSeconds: string(scanRecheckSeconds)
  ProcessEndWaitMinutes: string(processEndWaitMinutes)
  CatchUpApps: catchUpApps
  CatchUpEnabled: catchUpEnabled ? 'true' : 'false'
  CatchUpSchedule: catchUpSchedule
  CatchUpFrom: catchUpFrom
  ReconcileApps: reconcileApps
  ReconcileEnabled: reconcileEnabled ? 'true' : 'false'
  ReconcileSchedule: reconcileSchedule
  SubscriptionsSchedule: subscriptionsSchedule
  BrokerResources: brokerResources
  HandoffWatchSchedule: handoffWatchSchedule
  // The plan's instance memory, for the start-up memory check (shared/memory).
  InstanceMemoryMB: string(instanceMemoryMB)
  AcceptedApps: acceptedApps
  PoisonKeeperSchedule: poisonKeeperSchedule
}

var inboundRanges = filter(map(split(allowedInboundIpRanges, ','), range => trim(range)), range => !empty(range))

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    // Only what Flex Consumption accepts: it refuses ftpsState, alwaysOn, linuxFxVersion and the
    // other classic runtime and scale properties with ARM error 51021 (the list and its sources:
    // test/infra/support/flex.ts). FTP needs no ftpsState here: basic-auth publishing is off below.
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      // Inbound access restrictions on the app's own host (the webhook and the status page); the scm
      // site, which azd deploys through, keeps its own (Entra only: basic auth is off below).
      ipSecurityRestrictions: [
        for (range, i) in inboundRanges: {
          name: 'allowed-${i}'
          ipAddress: range
          action: 'Allow'
          priority: 100 + i
        }
      ]
      ipSecurityRestrictionsDefaultAction: empty(inboundRanges) ? 'Allow' : 'Deny'
    }
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobServiceUri}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      // No always-ready instances: nothing runs, and nothing is billed for compute, while idle.
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

resource appSettingsConfig 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: appSettings
}

// Deployments authenticate with Microsoft Entra ID (azd, az, Core Tools); the legacy
// publishing user name and password are switched off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
