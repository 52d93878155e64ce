// The Key Vault for the Maskinporten signing key. RBAC mode (no access policies), soft delete
// and purge protection: a deleted key can be recovered, and nobody can purge it early.
// The app reads it as Key Vault Secrets User; the deployer may write it as Key Vault Secrets
// Officer (rbac.bicep). The key itself is never part of a template or a parameter.

@minLength(3)
@maxLength(24)
@description('Vault name.')
param name string

@description('Region.')
param location string

@description('Tags for the vault.')
param tags object = {}

@minValue(7)
@maxValue(90)
@description('Days a deleted vault or secret can be recovered. Cannot be changed once the vault exists.')
param softDeleteRetentionInDays int = 90

@description('false (vnetEnabled): public network access is disabled and the vault is reached only through its private endpoint (privateEndpoints.bicep).')
param publicNetworkAccess bool = true

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: {
      defaultAction: publicNetworkAccess ? 'Allow' : 'Deny'
      bypass: publicNetworkAccess ? 'AzureServices' : 'None'
    }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
