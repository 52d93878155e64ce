// The virtual network of a deployment with vnetEnabled, as the anchor template
// (Azure-Samples/functions-quickstart-typescript-azd, infra/app/vnet.bicep) lays it out: one subnet
// for the private endpoints and one for the function app's virtual network integration, delegated
// to Microsoft.App/environments as Flex Consumption requires. The address ranges are parameters so
// that the network fits an agency's address plan (and can be peered with a hub).
//
// Outbound calls to Altinn and Maskinporten leave through the integration subnet. With a hub that
// forces traffic through a firewall (a route table on the subnet), the firewall must allow them
// (docs/deploy.md, "Network isolation").

@description('Virtual network name.')
param name string

@description('Region.')
param location string

@description('Tags for the network.')
param tags object = {}

@description('Address space of the network.')
param addressPrefix string = '10.0.0.0/16'

@description('Subnet of the private endpoints (Storage blob, queue and table; Key Vault).')
param privateEndpointSubnetPrefix string = '10.0.1.0/24'

@description('Subnet of the function app\'s virtual network integration (Flex Consumption: at least /27).')
param appSubnetPrefix string = '10.0.2.0/24'

var privateEndpointSubnetName = 'private-endpoints'
var appSubnetName = 'app'

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
        }
      }
      {
        name: appSubnetName
        properties: {
          addressPrefix: appSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

output id string = vnet.id
output name string = vnet.name
output privateEndpointSubnetId string = '${vnet.id}/subnets/${privateEndpointSubnetName}'
output appSubnetId string = '${vnet.id}/subnets/${appSubnetName}'
