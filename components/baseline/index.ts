export * from "./agentNamespace";
export * from "./agentPod";
export * from "./hardening";
export * from "./network";
export * from "./quota";
export * from "./spiffe";
export type * from "./types";
