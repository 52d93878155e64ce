/**
 * The package.json the deployment package carries. The worker reads only `main` and `type` from it
 * (parsePackageJson.ts in Azure/azure-functions-nodejs-worker); everything is bundled, so there is
 * nothing to install: no dependencies, no lockfile, no .npmrc (so no registry setting or token of
 * a developer's machine can ship), and no `bin` or scripts, which name files the package does not have.
 */
export interface ProjectManifest {
    name: string;
    version: string;
    description?: string;
    license?: string;
    engines?: Record<string, string>;
}

export interface PackagedManifest {
    name: string;
    version: string;
    description?: string;
    license?: string;
    private: true;
    main: string;
    engines?: Record<string, string>;
}

export function packagedManifest(project: ProjectManifest, main: string): PackagedManifest {
    return {
        name: project.name,
        version: project.version,
        ...(project.description ? { description: project.description } : {}),
        ...(project.license ? { license: project.license } : {}),
        private: true,
        main,
        ...(project.engines ? { engines: project.engines } : {}),
    };
}
