// The openclaw-vps policy pack: `pulumi preview --policy-pack policy` (and CI's preview) runs it against the
// program's resources. The policies live in ./policies.ts, which tests import without starting a policy server.
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("openclaw-vps", {
    description:
        "Invariants of an OpenClaw agent behind Cloudflare Zero Trust: SSH-only firewalls, loopback gateway, Access before DNS, retained memory bucket, no secrets in user data, Ubuntu 24.04.",
    enforcementLevel: "mandatory",
    policies: POLICIES,
});
