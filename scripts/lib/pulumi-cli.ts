// Runs the Pulumi CLI of this checkout (the `pulumi` npm package's wrapper in node_modules/.bin, or
// OPENCLAW_VPS_PULUMI), with values for it on stdin rather than argv; shared by deploy, verify and the operator commands.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/core/pins";
import { PulumiRunner } from "./setup";

export function pulumiRunner(env: NodeJS.ProcessEnv, cwd: string = PROJECT_ROOT, interactive = false): PulumiRunner {
    const bin = env.OPENCLAW_VPS_PULUMI ?? path.join(cwd, "node_modules", ".bin", "pulumi");
    return {
        run: (args, stdin) =>
            new Promise((resolve, reject) => {
                const child = spawn(bin, args, {
                    cwd,
                    env,
                    stdio: [
                        interactive && stdin === undefined ? "inherit" : "pipe",
                        interactive ? "inherit" : "pipe",
                        interactive ? "inherit" : "pipe",
                    ],
                });
                let stdout = "";
                let stderr = "";
                child.stdout?.on("data", (d) => (stdout += d));
                child.stderr?.on("data", (d) => (stderr += d));
                child.on("error", reject);
                child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
                if (child.stdin) {
                    // A command that exits without reading its stdin (an error, or one that needs none) closes the pipe
                    // early; its exit code tells what happened, the EPIPE does not.
                    child.stdin.on("error", () => undefined);
                    child.stdin.end(stdin ?? "");
                }
            }),
    };
}
