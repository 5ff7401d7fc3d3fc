export const SWIFTSHADER_ICD_PATHS: string[];
export function configureVulkanForNode(): string | null | undefined;
