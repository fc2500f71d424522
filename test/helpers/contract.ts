// The host contract for tests that run host scripts outside a real host: writes the rendered contract.env once per
// test process and points OPENCLAW_VPS_CONTRACT at it, so every script spawned from this process (which inherits the
// environment) reads the same paths and names a real host gets from user data. Import it for its effect.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderContractEnv } from "../../components/core/host-contract";

export const CONTRACT_ENV_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-vps-contract-")), "contract.env");
fs.writeFileSync(CONTRACT_ENV_FILE, renderContractEnv(), { mode: 0o644 });
process.env.OPENCLAW_VPS_CONTRACT = CONTRACT_ENV_FILE;
process.on("exit", () => fs.rmSync(path.dirname(CONTRACT_ENV_FILE), { recursive: true, force: true }));
