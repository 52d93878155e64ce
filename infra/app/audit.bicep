// The audit trail: who read, wrote or deleted a stored submission, a Broker file, a hand-off message
// or a ledger row, and who read the Maskinporten key. Diagnostic settings send the Storage services'
// StorageRead, StorageWrite and StorageDelete logs and Key Vault's AuditEvent log to the Log Analytics
// workspace, where they land in StorageBlobLogs, StorageQueueLogs, StorageTableLogs and AZKVAuditLogs
// (learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-storage-storageaccounts-blobservices-logs,
// .../microsoft-keyvault-vaults-logs). docs/deploy.md ("Audit") has the queries. The workspace
// keeps them for logRetentionInDays.

@description('Log Analytics workspace that receives the logs.')
param logAnalyticsWorkspaceId string

@description('Storage account whose blob, queue and table services are audited.')
param storageAccountName string

@description('Key Vault whose audit events are sent.')
param keyVaultName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }

  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// Read, write and delete: every data operation on the service, with the caller's identity
// (RequesterObjectId, RequesterUpn), address and the object's name.
var storageLogs = [
  {
    category: 'StorageRead'
    enabled: true
  }
  {
    category: 'StorageWrite'
    enabled: true
  }
  {
    category: 'StorageDelete'
    enabled: true
  }
]

resource blobAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: storage::blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: storageLogs
  }
}

resource queueAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: storage::queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: storageLogs
  }
}

resource tableAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: storage::tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: storageLogs
  }
}

resource keyVaultAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    // Resource-specific table AZKVAuditLogs rather than the shared AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}
