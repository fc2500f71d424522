// `npm run verify -- [--stack NAME] [--json] [--host H --user U --key FILE --port P] [--host-key FP]... [--url URL]`
// Audits the live agent: over SSH (cloud-init/audit-host.sh on stdin, as root, read-only) and from outside (the public
// hostname must answer with the Cloudflare Access login). Prints a checklist (✓ / ✗ with a fix hint / –), or the
// report as JSON with --json. Exit 0: no critical failure; 1: a critical check failed; 2: bad arguments or setup.
import { parseArgs } from "node:util";
import { AUDIT_GROUPS, formatChecklist, exitCodeOf } from "../components/verify/checks";
import { verify } from "../components/verify/run";
import { pulumiRunner } from "./lib/pulumi-cli";
import { resolveVerifyTarget } from "./lib/verify-target";

const USAGE = `usage: npm run verify -- [--stack NAME] [--json] [--host HOST] [--user USER] [--key FILE] [--port PORT]
                          [--host-key SHA256:...]... [--known-hosts FILE] [--url https://HOSTNAME] [--team TEAM]
                          [--only GROUP,...] [--no-edge]
With --stack (default prod when no --host), the host and user come from the stack's outputs and the expected
settings from its config; the other options override them. Groups: ${AUDIT_GROUPS.join(", ")}.`;

async function main(): Promise<number> {
    let values;
    try {
        ({ values } = parseArgs({
            options: {
                stack: { type: "string" },
                json: { type: "boolean", default: false },
                host: { type: "string" },
                user: { type: "string" },
                key: { type: "string" },
                port: { type: "string" },
                "host-key": { type: "string", multiple: true },
                "known-hosts": { type: "string" },
                url: { type: "string" },
                team: { type: "string" },
                "metadata-base": { type: "string" },
                only: { type: "string" },
                "no-edge": { type: "boolean", default: false },
                help: { type: "boolean", default: false },
            },
        }));
    } catch (error) {
        console.error(`${(error as Error).message}\n${USAGE}`);
        return 2;
    }
    if (values.help) {
        console.log(USAGE);
        return 0;
    }
    let target;
    try {
        target = await resolveVerifyTarget(
            {
                stack: values.stack,
                host: values.host,
                user: values.user,
                key: values.key,
                port: values.port === undefined ? undefined : Number(values.port),
                hostKey: values["host-key"],
                knownHosts: values["known-hosts"],
                url: values.url,
                team: values.team,
                metadataBase: values["metadata-base"],
                only: values.only
                    ?.split(",")
                    .map((g) => g.trim())
                    .filter(Boolean),
                noEdge: values["no-edge"],
            },
            { pulumi: pulumiRunner(process.env), env: process.env },
        );
    } catch (error) {
        console.error(`verify: ${(error as Error).message}\n${USAGE}`);
        return 2;
    }
    for (const note of target.notes) console.error(`note: ${note}`);
    const report = await verify({
        ...target.options,
        onProgress: values.json ? undefined : (text) => process.stderr.write(text),
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatChecklist(report));
    return exitCodeOf(report);
}

if (require.main === module) {
    main().then(
        // Exit only once stdout is flushed (a pipe may still hold the report), without waiting for idle keep-alives.
        (code) => process.stdout.write("", () => process.exit(code)),
        (error) => {
            console.error(`verify failed: ${error instanceof Error ? error.message : error}`);
            process.exit(2);
        },
    );
}
