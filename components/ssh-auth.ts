// How the deploy proves itself to the server over SSH. The private key never goes into config or user data:
// we use the operator's SSH agent when there is one, else a key file named by OPENCLAW_VPS_SSH_KEY, else the usual
// ~/.ssh/id_ed25519 / id_ecdsa / id_rsa. A key read from disk travels as a Pulumi secret (encrypted in state).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export interface SshAuth {
    agentSocketPath?: string;
    privateKey?: pulumi.Input<string>;
}

export function sshAuthFromEnvironment(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): SshAuth {
    const explicit = env.OPENCLAW_VPS_SSH_KEY;
    if (explicit) {
        if (!fs.existsSync(explicit)) throw new Error(`OPENCLAW_VPS_SSH_KEY points to ${explicit}, which does not exist`);
        return { privateKey: pulumi.secret(fs.readFileSync(explicit, "utf8")) };
    }
    if (env.SSH_AUTH_SOCK && fs.existsSync(env.SSH_AUTH_SOCK)) return { agentSocketPath: env.SSH_AUTH_SOCK };
    for (const file of ["id_ed25519", "id_ecdsa", "id_rsa"]) {
        const candidate = path.join(home, ".ssh", file);
        if (fs.existsSync(candidate)) return { privateKey: pulumi.secret(fs.readFileSync(candidate, "utf8")) };
    }
    // Nothing found: a preview still works; `pulumi up` fails at the first SSH step with the provider's error.
    return {};
}
