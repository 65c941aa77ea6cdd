// Image references a stack may name. Every image carries a tag or a digest, never `latest`; in
// prod a digest, so what was reviewed is what runs (seed 004's production immutability, issue 12).

const HOST = "([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?";
const PATH = "(\\/[a-z0-9]+([._-][a-z0-9]+)*)+";
const TAG = ":([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
const DIGEST = "@sha256:[a-f0-9]{64}";
const IMAGE = new RegExp(`^${HOST}${PATH}(${TAG})?(${DIGEST})?$`);

export const IMAGE_EXAMPLE = "quay.io/agent-security/fetch-agent:1.0.0";
export const DIGEST_EXAMPLE = "quay.io/agent-security/fetch-agent:1.0.0@sha256:<64 hex digits>";

/** Why an image reference is unacceptable on any profile, or undefined. */
export function imageProblem(image: string): string | undefined {
    const match = IMAGE.exec(image);
    if (!match) {
        return `"${image}" must be a fully qualified image reference: registry host, repository path, and a tag or @sha256 digest (for example ${IMAGE_EXAMPLE})`;
    }
    const tag = /:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(@|$)/.exec(image.slice(image.lastIndexOf("/")))?.[1];
    const digest = image.includes("@sha256:");
    if (tag === undefined && !digest) {
        return `"${image}" has neither a tag nor a digest, so the registry decides what runs; pin it, for example ${IMAGE_EXAMPLE} or ${DIGEST_EXAMPLE}`;
    }
    if (tag?.toLowerCase() === "latest") {
        return `"${image}" uses the tag latest, which moves; pin a version tag or a digest, for example ${IMAGE_EXAMPLE}`;
    }
    return undefined;
}

/** Why an image is unacceptable in prod beyond imageProblem, or undefined. */
export function prodImageProblem(image: string): string | undefined {
    if (!image.includes("@sha256:")) {
        return `"${image}" has no digest; prod runs only images pinned by digest so a pushed tag cannot change what runs: write ${DIGEST_EXAMPLE}`;
    }
    return undefined;
}
