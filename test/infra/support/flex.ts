/**
 * The siteConfig properties a Flex Consumption (FC1) site refuses. ARM answers a deployment that sets
 * one of them with 400 BadRequest, extended code 51021: "The following site configuration property
 * (Site.SiteConfig.<Name>) for Flex Consumption sites is invalid. Please remove or rename it before
 * retrying." Older regional stamps ignore some of them while newer ones refuse them (the Microsoft
 * Q&A answers quoted in Azure/terraform-azurerm-avm-res-web-site#360), so a template that deploys
 * in one region can fail in the next: the list is checked here rather than found out in Azure.
 *
 * On Flex the runtime is functionAppConfig.runtime and scaling is functionAppConfig.scaleAndConcurrency,
 * which is why the classic runtime, worker and scale properties have no place in siteConfig.
 */
import { objectProperties, property } from './bicepTree';
import type { Infra } from './invariants';

export interface RejectedSiteConfigProperty {
    /** As written in Bicep (camelCase). */
    name: string;
    /** Where the refusal is recorded. */
    source: string;
}

export const flexRejectedSiteConfig: RejectedSiteConfigProperty[] = [
    {
        name: 'ftpsState',
        source: 'ARM 51021 verbatim: microsoft/azure-pipelines-tasks#21032 ("Site.SiteConfig.FtpsState, Site.SiteConfig.Use32BitWorkerProcess, Site.SiteConfig.NetFrameworkVersion, Site.SiteConfig.FunctionsRuntimeScaleMonitoringEnabled ... for Flex Consumption sites is invalid"); Azure/terraform-azurerm-avm-res-web-site PR #345',
    },
    {
        name: 'use32BitWorkerProcess',
        source: 'ARM 51021 verbatim: microsoft/azure-pipelines-tasks#21032; Azure/terraform-azurerm-avm-res-web-site PR #345',
    },
    {
        name: 'netFrameworkVersion',
        source: 'ARM 51021 verbatim: microsoft/azure-pipelines-tasks#21032; Azure/terraform-azurerm-avm-res-web-site PR #345',
    },
    {
        name: 'functionsRuntimeScaleMonitoringEnabled',
        source: 'ARM 51021 verbatim: microsoft/azure-pipelines-tasks#21032; settled as rejected in Azure/terraform-azurerm-avm-res-web-site#360',
    },
    {
        name: 'preWarmedInstanceCount',
        source: 'ARM 51021 verbatim, quoted from Microsoft Q&A 2277522 in Azure/terraform-azurerm-avm-res-web-site#360',
    },
    {
        name: 'functionAppScaleLimit',
        source: 'ARM 51021 verbatim: Azure/azure-functions-host#10643; microsoft/azure-pipelines-tasks#22254 (scale limit is functionAppConfig.scaleAndConcurrency.maximumInstanceCount)',
    },
    {
        name: 'linuxFxVersion',
        source: 'ARM 51021 verbatim: Azure/terraform-azurerm-avm-res-web-site#283, fixed by PR #345 (the runtime is functionAppConfig.runtime)',
    },
    {
        name: 'windowsFxVersion',
        source: 'Azure/terraform-azurerm-avm-res-web-site PR #345: FC1 is Linux only; suppressed with linuxFxVersion',
    },
    {
        name: 'alwaysOn',
        source: 'Azure/terraform-azurerm-avm-res-web-site locals.config.tf sends alwaysOn = null for FC1 ("We already guarded alwaysOn", PR #345); Flex keeps instances warm with functionAppConfig.scaleAndConcurrency.alwaysReady instead',
    },
];

/** Every siteConfig property of a Microsoft.Web/sites resource that Flex Consumption refuses. */
export function checkFlexSiteConfig(infra: Infra): string[] {
    const problems: string[] = [];
    for (const file of infra.bicep) {
        for (const resource of file.resources()) {
            if (!/^Microsoft\.Web\/sites(\/config)?@/.test(resource.type) || resource.existing) continue;
            const siteConfig = resource.type.startsWith('Microsoft.Web/sites@')
                ? property(resource.body, 'properties', 'siteConfig')
                : // A sites/config 'web' resource is the same siteConfig, set on its own.
                  /'web'/.test(property(resource.body, 'name')?.text ?? '')
                  ? property(resource.body, 'properties')
                  : undefined;
            const set = [...objectProperties(siteConfig).keys()];
            for (const rejected of flexRejectedSiteConfig) {
                if (set.includes(rejected.name)) {
                    problems.push(
                        `${file.file}: ${resource.symbol} sets siteConfig.${rejected.name}, which Flex Consumption refuses (ARM 51021; ${rejected.source.split(':')[0]})`,
                    );
                }
            }
        }
    }
    return problems;
}
