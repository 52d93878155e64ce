// Every role assignment of the deployment, each on the narrowest scope that works.
//
// The app's managed identity gets exactly what the code and the Functions host need:
//   - Storage Blob Data Owner on the storage account. The host's AzureWebJobsStorage
//     connection with an identity requires it (the Functions docs name Blob Data Owner as the
//     host's minimum): the host keeps leases, timer schedule status and its keys in blobs; Flex
//     Consumption reads the deployment package with it; the code reads, writes, lists and
//     deletes blobs in the containers of shared/names.ts.
//   - Storage Queue Data Contributor on the storage account: the code sends messages itself
//     (base64, with the SDK); the queue triggers read and delete them and the host moves failed
//     ones to <queue>-poison.
//   - Storage Table Data Contributor on the storage account: the host writes its diagnostic
//     events to Table storage through AzureWebJobsStorage (__tableServiceUri); without the role
//     they are lost (AZFD0003). The code's own tables use the same connection.
//   - Monitoring Metrics Publisher on Application Insights, which accepts only Entra-authenticated
//     telemetry (local auth disabled).
//   - Key Vault Secrets User on the one Key Vault: read the Maskinporten key, nothing else.
// The deployer (principalId), when given, gets what the two manual steps need and no more:
//   - Key Vault Secrets Officer on the vault, to put the Maskinporten key in and rotate it.
//   - Storage Blob Data Contributor on the add-subscriptions and remove-subscriptions
//     containers only, to drop subscription files (shared keys are disabled, so
//     `az storage blob upload --auth-mode login` needs a data role).
// The operators (operatorPrincipalId, a group), when given, may see what arrived and put right what
// failed, with Storage Explorer or `npm run aos -- … --account <storage account>`, and nothing more:
//   - Storage Blob Data Reader on the storage account: read every stored submission, Broker file,
//     manifest and the state blobs (catch-up cursors, subscription files); write nothing.
//   - Storage Table Data Reader on the ledger table: read what was seen, stored, confirmed, handed off.
//   - Storage Queue Data Contributor on the storage account: list and read poison messages, replay
//     them to their queue and delete them (`aos poison replay`), read hand-off messages.
//   - Storage Blob Data Contributor on add-subscriptions and remove-subscriptions, as the deployer,
//     and on aos-state, where a replay removes the failure record of the message it puts back.
//   - Log Analytics Reader on the workspace: the traces, alerts' queries and the audit logs.

@description('Storage account of the app.')
param storageAccountName string

@description('Application Insights component of the app.')
param applicationInsightsName string

@description('Key Vault holding the Maskinporten key.')
param keyVaultName string

@description('Principal id of the app\'s user-assigned managed identity.')
param identityPrincipalId string

@description('Object id of the deployer (user, group or service principal). Empty: no assignments for people.')
param deployerPrincipalId string = ''

@description('Log Analytics workspace the operators may query.')
param logAnalyticsName string

@description('Object id of the operators (an Entra group). Empty: no operator roles.')
param operatorPrincipalId string = ''

@allowed([
  'Group'
  'User'
  'ServicePrincipal'
])
@description('What operatorPrincipalId is.')
param operatorPrincipalType string = 'Group'

// Built-in role definition ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
var roleDefinitionIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' // Storage Blob Data Reader
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6' // Storage Table Data Reader
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893' // Log Analytics Reader
}

var grantDeployer = !empty(deployerPrincipalId)
var grantOperator = !empty(operatorPrincipalId)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource addSubscriptions 'containers' existing = {
      name: 'add-subscriptions'
    }

    resource removeSubscriptions 'containers' existing = {
      name: 'remove-subscriptions'
    }

    resource state 'containers' existing = {
      name: 'aos-state'
    }
  }

  resource tableService 'tableServices' existing = {
    name: 'default'

    resource ledger 'tables' existing = {
      name: 'ledger'
    }
  }
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// ---------------------------------------------------------------------------------------------
// The app's managed identity
// ---------------------------------------------------------------------------------------------

resource appBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, roleDefinitionIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, roleDefinitionIds.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageQueueDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identityPrincipalId, roleDefinitionIds.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageTableDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, roleDefinitionIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appKeyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identityPrincipalId, roleDefinitionIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.keyVaultSecretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// The deployer (optional). principalType is left out: it may be a user, a group or a pipeline's
// service principal.
// ---------------------------------------------------------------------------------------------

resource deployerKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployer) {
  name: guid(keyVault.id, deployerPrincipalId, roleDefinitionIds.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
  }
}

resource deployerAddSubscriptionsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployer) {
  name: guid(storage::blobService::addSubscriptions.id, deployerPrincipalId, roleDefinitionIds.storageBlobDataContributor)
  scope: storage::blobService::addSubscriptions
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataContributor)
    principalId: deployerPrincipalId
  }
}

resource deployerRemoveSubscriptionsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantDeployer) {
  name: guid(storage::blobService::removeSubscriptions.id, deployerPrincipalId, roleDefinitionIds.storageBlobDataContributor)
  scope: storage::blobService::removeSubscriptions
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataContributor)
    principalId: deployerPrincipalId
  }
}

// ---------------------------------------------------------------------------------------------
// The operators (optional): read what arrived, replay poison, manage subscriptions, read the logs.
// ---------------------------------------------------------------------------------------------

resource operatorBlobDataReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(storage.id, operatorPrincipalId, roleDefinitionIds.storageBlobDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorLedgerReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(storage::tableService::ledger.id, operatorPrincipalId, roleDefinitionIds.storageTableDataReader)
  scope: storage::tableService::ledger
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageTableDataReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(storage.id, operatorPrincipalId, roleDefinitionIds.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageQueueDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorAddSubscriptionsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(storage::blobService::addSubscriptions.id, operatorPrincipalId, roleDefinitionIds.storageBlobDataContributor)
  scope: storage::blobService::addSubscriptions
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorRemoveSubscriptionsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(storage::blobService::removeSubscriptions.id, operatorPrincipalId, roleDefinitionIds.storageBlobDataContributor)
  scope: storage::blobService::removeSubscriptions
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorStateContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(storage::blobService::state.id, operatorPrincipalId, roleDefinitionIds.storageBlobDataContributor)
  scope: storage::blobService::state
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.storageBlobDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

resource operatorLogAnalyticsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantOperator) {
  name: guid(logAnalytics.id, operatorPrincipalId, roleDefinitionIds.logAnalyticsReader)
  scope: logAnalytics
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionIds.logAnalyticsReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
