// What the deploy learns from the server itself before it renders the push: wait-provisioned.sh ends with one
// `HOST-FACTS key=value ...` line (today: the memory the host really has, MemTotal or a smaller memory-cgroup limit),
// and the gateway unit's memory budget is computed from it rather than from the server type's nominal size (a "2 GB"
// droplet has about 1.9 GiB of MemTotal). Pure: parsing only.

/** The line wait-provisioned.sh prints once provisioning is done. */
export const HOST_FACTS_PREFIX = "HOST-FACTS";

export interface HostFacts {
    /** Memory the host's processes can use, in MiB: MemTotal, or the memory cgroup's limit when that is lower. */
    memTotalMb?: number;
}

/** The facts in wait-provisioned.sh's output; empty when there is no such line (an older script, the offline plan). */
export function parseHostFacts(stdout: string): HostFacts {
    const line = stdout.split("\n").find((l) => l.startsWith(`${HOST_FACTS_PREFIX} `));
    if (!line) return {};
    const fields = Object.fromEntries(
        line
            .slice(HOST_FACTS_PREFIX.length + 1)
            .trim()
            .split(/\s+/)
            .map((pair) => pair.split("=", 2) as [string, string]),
    );
    const memory = Number(fields.mem_total_mb);
    return Number.isInteger(memory) && memory > 0 ? { memTotalMb: memory } : {};
}
