// OpenSSH client bits shared by the gateway tests and bench:ssh.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { $ } from "bun";

/** Non-interactive, no host-key prompts or known_hosts writes (the test hosts are throwaway). */
export const SSH_OPTS = [
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
  "-o",
  "BatchMode=yes",
];

/** A new ed25519 key pair in `dir`: the private key's path and the public key's text. */
export async function keyPair(dir: string, name: string): Promise<{ key: string; pub: string }> {
  const key = join(dir, name);
  await $`ssh-keygen -q -t ed25519 -N '' -f ${key}`;
  return { key, pub: readFileSync(`${key}.pub`, "utf8").trim() };
}
