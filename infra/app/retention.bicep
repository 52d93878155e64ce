// How long stored submissions are kept, and what protects them from deletion: a lifecycle policy per
// container (off unless a number of days is given), deletion of previous blob versions when versioning
// is on, and an optional CanNotDelete lock on the storage account. Soft delete and versioning
// themselves are properties of the blob service (storage.bicep). What is kept where, and for how
// long, is in docs/deploy.md ("Retention and deletion").

@description('Storage account the policy and the lock apply to.')
param storageAccountName string

@description('Per container: days after the last write (the hand-off follows it within minutes) when a blob moves to the Cool tier, and when it is deleted; 0 leaves it. An empty list, or only zeros: no lifecycle policy.')
param containerRetention {
  container: string
  coolAfterDays: int
  deleteAfterDays: int
}[] = []

@minValue(0)
@description('With blob versioning on: days after which a previous version (an overwritten or deleted blob) is deleted; 0 keeps versions until deleted by hand.')
param previousVersionsDeleteAfterDays int = 0

@description('A CanNotDelete lock on the storage account: nobody (azd down included) can delete the account, and so every submission, until the lock is removed. It does not stop deleting blobs.')
param deleteLock bool = false

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

var containerRules = [
  for entry in filter(containerRetention, r => r.coolAfterDays > 0 || r.deleteAfterDays > 0): {
    enabled: true
    // Rule names are letters and digits only.
    name: replace(entry.container, '-', '')
    type: 'Lifecycle'
    definition: {
      filters: {
        blobTypes: [
          'blockBlob'
        ]
        // A prefix starts with the container name.
        prefixMatch: [
          '${entry.container}/'
        ]
      }
      actions: {
        baseBlob: union(
          entry.coolAfterDays > 0 ? { tierToCool: { daysAfterModificationGreaterThan: entry.coolAfterDays } } : {},
          entry.deleteAfterDays > 0 ? { delete: { daysAfterModificationGreaterThan: entry.deleteAfterDays } } : {}
        )
      }
    }
  }
]

var versionRules = previousVersionsDeleteAfterDays > 0
  ? [
      {
        enabled: true
        name: 'previousversions'
        type: 'Lifecycle'
        definition: {
          filters: {
            blobTypes: [
              'blockBlob'
            ]
          }
          actions: {
            version: {
              delete: {
                daysAfterCreationGreaterThan: previousVersionsDeleteAfterDays
              }
            }
          }
        }
      }
    ]
  : []

var rules = concat(containerRules, versionRules)

// A policy needs at least one rule. Setting every number back to 0 leaves an earlier policy in place:
// remove it with `az storage account management-policy delete` (docs/deploy.md).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = if (!empty(rules)) {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: rules
    }
  }
}

resource storageLock 'Microsoft.Authorization/locks@2020-05-01' = if (deleteLock) {
  name: 'aos-no-delete'
  scope: storage
  properties: {
    level: 'CanNotDelete'
    notes: 'Holds every stored submission. Remove this lock only when the data may go (docs/deploy.md, "Remove a deployment").'
  }
}

output ruleNames array = [for rule in rules: rule.name]
