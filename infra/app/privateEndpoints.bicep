// With vnetEnabled: Storage (blob, queue, table) and Key Vault are reached only through private
// endpoints in the network, each with the private DNS zone that makes the service's usual host name
// resolve to the endpoint inside the network, as the anchor template does it
// (Azure-Samples/functions-quickstart-typescript-azd, infra/app/storage-PrivateEndpoint.bicep:
// privatelink.<service>.<storage suffix> zones linked to the network, one endpoint per group id).
// The app keeps using the public names (AzureWebJobsStorage__blobServiceUri, MaskinportenKeyVaultUri);
// inside the network they resolve to these endpoints. Queue and table are needed as well as blob:
// the triggers read queues, the ledger and the host's diagnostic events live in tables.

@description('Prefix of the endpoint names.')
param namePrefix string

@description('Region of the endpoints.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Virtual network the DNS zones are linked to.')
param virtualNetworkId string

@description('Subnet of the private endpoints.')
param subnetId string

@description('Storage account reached through the blob, queue and table endpoints.')
param storageAccountName string

@description('Key Vault reached through the vault endpoint.')
param keyVaultName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// Private DNS zone names (learn.microsoft.com/azure/private-link/private-endpoint-dns), from
// environment() so that they are right in every cloud: Key Vault's is privatelink.vaultcore.<suffix>
// where its public names are <vault>.vault.<suffix>.
var endpoints = [
  {
    name: 'blob'
    serviceId: storage.id
    zone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'queue'
    serviceId: storage.id
    zone: 'privatelink.queue.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    serviceId: storage.id
    zone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    name: 'vault'
    serviceId: vault.id
    zone: 'privatelink${replace(environment().suffixes.keyvaultDns, 'vault', 'vaultcore')}'
  }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for endpoint in endpoints: {
    name: endpoint.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (endpoint, i) in endpoints: {
    parent: zones[i]
    name: '${namePrefix}-${endpoint.name}'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: virtualNetworkId
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: '${namePrefix}-${endpoint.name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.serviceId
            // The group id is the sub-resource: blob, queue, table, or vault.
            groupIds: [
              endpoint.name
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.name
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]

output groupIds array = [for endpoint in endpoints: endpoint.name]
