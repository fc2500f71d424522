// The restore planner as a command: `node --import tsx components/snapshots/plan-cli.ts` with a JSON PlanInput on
// stdin (endpoint, bucket, read-only key pair, identity, restoreFrom), the plan on stdout (secret), one line for
// people on stderr. Run by the Pulumi program on the operator's machine when a new server is created (components/
// host.ts, a local Command: its stdin and stdout are Pulumi secrets), and by the stand-in deploy.
import { planRestore, PlanInput } from "./plan";

async function main(): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    let input: PlanInput;
    try {
        input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as PlanInput;
    } catch {
        throw new Error("the restore planner expects its input as JSON on stdin");
    }
    // Run by `pulumi up` right after it may have minted the read-only token: give Cloudflare a moment to honour it.
    const plan = await planRestore({ waitForTokenSeconds: 120, ...input });
    process.stderr.write(`restore plan: ${plan.summary}\n`);
    process.stdout.write(plan.text);
}

main().catch((err: Error) => {
    process.stderr.write(`restore plan failed: ${err.message}\n`);
    process.exit(1);
});
