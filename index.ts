// Entry point of `pulumi up`: config -> platform. The exports are the stack outputs.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, loadConfig } from "./config/schema";
import { buildPlatform } from "./platform";
import type { PlatformOutputs } from "./platform";

function main(): PlatformOutputs {
    try {
        return buildPlatform(loadConfig());
    } catch (error) {
        if (error instanceof ConfigError) {
            // RunError prints the message without a stack trace: config mistakes are the user's to
            // fix, not a bug report.
            throw new pulumi.RunError(`invalid stack config:\n${error.message}`);
        }
        throw error;
    }
}

const outputs = main();

export const stack = outputs.stack;
export const profile = outputs.profile;
export const platform = outputs.platform;
export const features = outputs.features;
export const emergencyOverride = outputs.emergencyOverride;
export const agents = outputs.agents;
export const falcoCoverage = outputs.falcoCoverage;
export const mcpGatewayUrl = outputs.mcpGatewayUrl;
export const renderDirectory = outputs.renderDirectory;
