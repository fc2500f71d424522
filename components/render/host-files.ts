// Reads the host-side files kept in the repository's cloud-init/ folder (provision.sh, the sshd drop-in template,
// wait-provisioned.sh, ...), so every renderer that ships one to the server takes the exact text that was
// shellchecked and tested. No Pulumi imports.
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository's cloud-init/ folder. */
export const HOST_FILES_DIR = path.resolve(__dirname, "..", "..", "cloud-init");

const HOST_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * The text of `cloud-init/<name>` (a plain file name, no folders). Throws when the file is missing or is not
 * plain LF text, because a CR or a NUL on the host breaks bash and cloud-init in ways that are hard to see.
 */
export function readHostFile(name: string): string {
    if (!HOST_FILE_NAME.test(name)) throw new Error(`readHostFile: "${name}" is not a plain file name in cloud-init/`);
    const file = path.join(HOST_FILES_DIR, name);
    if (!fs.existsSync(file)) throw new Error(`readHostFile: ${file} is missing`);
    const text = fs.readFileSync(file, "utf8");
    if (/[\r\0]/.test(text)) throw new Error(`readHostFile: ${file} contains CR or NUL characters (LF text only)`);
    return text;
}
