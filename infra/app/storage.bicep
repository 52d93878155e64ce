// The storage account: host storage (AzureWebJobsStorage), the Flex Consumption deployment
// package, and every queue and container the code uses. Only Microsoft Entra identities get in:
// shared keys (and so account keys, SAS and connection strings with keys) are disabled.

@minLength(3)
@maxLength(24)
@description('Storage account name.')
param name string

@description('Region.')
param location string

@description('Tags for the account.')
param tags object = {}

@description('Blob container for the Flex Consumption deployment package.')
param deploymentContainerName string

@minValue(1)
@maxValue(365)
@description('Days a deleted or overwritten blob, or a deleted container, can be recovered.')
param blobSoftDeleteRetentionInDays int = 7

@description('Blob versioning: every overwrite or deletion keeps the previous version (deleted after retention.bicep\'s previousVersionsDeleteAfterDays, if set).')
param blobVersioning bool = false

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
@description('Redundancy. LRS keeps three copies in one datacentre; ZRS across zones of the region; GRS/GZRS also in the paired region.')
param skuName string = 'Standard_LRS'

@description('false (vnetEnabled): public network access is disabled and the account is reached only through its private endpoints (privateEndpoints.bicep).')
param publicNetworkAccess bool = true

// Every queue in shared/names.ts (queues), each with the poison queue the Functions host moves a
// message to after maxDequeueCount failed attempts (poisonQueueOf). The host would create a
// poison queue on first use; provisioning it makes it visible and monitorable from day one.
var queueNames = [
  'events-inbound'
  'events-inbound-poison'
  'events-feedback'
  'events-feedback-poison'
  'events-confirmation'
  'events-confirmation-poison'
  'events-substatus'
  'events-substatus-poison'
  'broker-inbound'
  'broker-inbound-poison'
  'instances-received'
  'instances-received-poison'
]

// Every container in shared/names.ts (containers). The host creates its own azure-webjobs-*
// containers.
var containerNames = [
  'inbound'
  'broker'
  'quarantine'
  'add-subscriptions'
  'remove-subscriptions'
  'active-subscriptions'
  'failed-subscriptions'
  'aos-state'
]

// Every table in shared/names.ts (tables): the ledger of instances and Broker files seen.
var tableNames = [
  'ledger'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    // Public, or private endpoints only, as the anchor template sets its storage for vnetEnabled.
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: publicNetworkAccess
      ? {
          defaultAction: 'Allow'
          bypass: 'AzureServices'
        }
      : {
          defaultAction: 'Deny'
          bypass: 'None'
        }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    isVersioningEnabled: blobVersioning
    deleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteRetentionInDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteRetentionInDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in concat(containerNames, [deploymentContainerName]): {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output id string = storage.id
output name string = storage.name
output primaryBlobEndpoint string = storage.properties.primaryEndpoints.blob
output primaryQueueEndpoint string = storage.properties.primaryEndpoints.queue
output primaryTableEndpoint string = storage.properties.primaryEndpoints.table
