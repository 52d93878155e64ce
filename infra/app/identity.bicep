// The function app's user-assigned managed identity. It is the only principal the app uses:
// host storage, the code's own storage clients, Key Vault and Application Insights all
// authenticate with it (rbac.bicep lists what it may do).

@description('Identity name.')
param name string

@description('Region.')
param location string

@description('Tags for the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
