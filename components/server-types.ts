// What we know about each provider's server types and locations: sizes (to refuse hosts too small for the
// gateway and to size memory limits and swap), and the defaults. Plain data, no Pulumi imports.

export type Provider = "hetzner" | "digitalocean";

export interface ServerSize {
    vcpus: number;
    memoryMb: number;
    arch: "x64" | "arm64";
    /** A type the provider no longer sells: creating it fails, so we refuse it early. */
    retired?: boolean;
}

/** The smallest host the gateway, a headless browser and the memory index fit on (the guide's 2 vCPU / 2 GB). */
export const MINIMUM_SIZE = { vcpus: 2, memoryMb: 2048 } as const;

export const DEFAULT_SERVER_TYPE: Record<Provider, string> = {
    // No current Hetzner type has 2 vCPU / 2 GB (cx22 and cpx11 were retired in 2025); cx23 is the cheapest
    // 2-vCPU x86 type and comes with 4 GB.
    hetzner: "cx23",
    digitalocean: "s-2vcpu-2gb",
};

export const DEFAULT_REGION: Record<Provider, string> = {
    hetzner: "fsn1",
    digitalocean: "fra1",
};

export const KNOWN_REGIONS: Record<Provider, readonly string[]> = {
    hetzner: ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"],
    digitalocean: ["nyc1", "nyc3", "sfo2", "sfo3", "tor1", "atl1", "lon1", "ams3", "fra1", "blr1", "sgp1", "syd1"],
};

const GB = 1024;

export const KNOWN_SERVER_TYPES: Record<Provider, Record<string, ServerSize>> = {
    hetzner: {
        // Shared x86 (Intel/AMD), current generation.
        cx23: { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
        cx33: { vcpus: 4, memoryMb: 8 * GB, arch: "x64" },
        cx43: { vcpus: 8, memoryMb: 16 * GB, arch: "x64" },
        cx53: { vcpus: 16, memoryMb: 32 * GB, arch: "x64" },
        // Shared AMD, current generation.
        cpx12: { vcpus: 1, memoryMb: 2 * GB, arch: "x64" },
        cpx22: { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
        cpx32: { vcpus: 4, memoryMb: 8 * GB, arch: "x64" },
        cpx42: { vcpus: 8, memoryMb: 16 * GB, arch: "x64" },
        // Shared Arm (Ampere).
        cax11: { vcpus: 2, memoryMb: 4 * GB, arch: "arm64" },
        cax21: { vcpus: 4, memoryMb: 8 * GB, arch: "arm64" },
        cax31: { vcpus: 8, memoryMb: 16 * GB, arch: "arm64" },
        // Dedicated vCPU.
        ccx13: { vcpus: 2, memoryMb: 8 * GB, arch: "x64" },
        ccx23: { vcpus: 4, memoryMb: 16 * GB, arch: "x64" },
        // Retired in 2025: still in old guides, no longer orderable.
        cx11: { vcpus: 1, memoryMb: 2 * GB, arch: "x64", retired: true },
        cx22: { vcpus: 2, memoryMb: 4 * GB, arch: "x64", retired: true },
        cpx11: { vcpus: 2, memoryMb: 2 * GB, arch: "x64", retired: true },
        cpx21: { vcpus: 3, memoryMb: 4 * GB, arch: "x64", retired: true },
    },
    digitalocean: {
        "s-1vcpu-512mb-10gb": { vcpus: 1, memoryMb: 512, arch: "x64" },
        "s-1vcpu-1gb": { vcpus: 1, memoryMb: 1 * GB, arch: "x64" },
        "s-1vcpu-2gb": { vcpus: 1, memoryMb: 2 * GB, arch: "x64" },
        "s-2vcpu-2gb": { vcpus: 2, memoryMb: 2 * GB, arch: "x64" },
        "s-2vcpu-4gb": { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
        "s-4vcpu-8gb": { vcpus: 4, memoryMb: 8 * GB, arch: "x64" },
        "s-2vcpu-2gb-intel": { vcpus: 2, memoryMb: 2 * GB, arch: "x64" },
        "s-2vcpu-2gb-amd": { vcpus: 2, memoryMb: 2 * GB, arch: "x64" },
        "s-2vcpu-4gb-intel": { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
        "s-2vcpu-4gb-amd": { vcpus: 2, memoryMb: 4 * GB, arch: "x64" },
    },
};

/** The Ubuntu 24.04 image slug of each provider. */
export const UBUNTU_IMAGE: Record<Provider, string> = {
    hetzner: "ubuntu-24.04",
    digitalocean: "ubuntu-24-04-x64",
};

/** Size of a type, or undefined when we do not know it (allowed, with a warning). */
export function serverSize(provider: Provider, serverType: string): ServerSize | undefined {
    return KNOWN_SERVER_TYPES[provider][serverType];
}
