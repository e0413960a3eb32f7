// The master's own SSH identity (<data>/ssh/id_ed25519), shown in the API so an admin can put
// it in a worker's authorized_keys, and SHA256 fingerprints in OpenSSH's notation.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { utils } from "ssh2";
import { dataLayout } from "../lib/layout";

export interface MasterKey {
  privateKey: string;
  publicKey: string;
}

export function loadOrCreateMasterKey(dataDir: string): MasterKey {
  return loadOrCreateKeyPair(dataLayout(dataDir).masterKeyFile, "hangar-master");
}

/** The ed25519 pair at `privPath` (and `privPath`.pub), made on first use; the private file 0600. */
export function loadOrCreateKeyPair(privPath: string, comment: string): MasterKey {
  const dir = dirname(privPath);
  const pubPath = `${privPath}.pub`;
  if (existsSync(privPath) && existsSync(pubPath))
    return { privateKey: readFileSync(privPath, "utf8"), publicKey: readFileSync(pubPath, "utf8").trim() };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = newEd25519Pair(comment);
  writeFileSync(privPath, pair.private, { mode: 0o600 });
  chmodSync(privPath, 0o600);
  writeFileSync(pubPath, `${pair.public.trim()}\n`);
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}

/**
 * A new ed25519 pair that ssh2 can read back. About 1 in 400 pairs from ssh2's own generator
 * fails its parser ("Malformed OpenSSH private key"): such a master key would make every
 * worker unreachable, so a pair is kept only once it parses.
 */
export function newEd25519Pair(comment: string): { private: string; public: string } {
  for (let i = 0; i < 20; i++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment });
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error("could not make an ed25519 key pair that parses");
}

/** "SHA256:base64" like `ssh-keygen -lf`, from the raw public key blob. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}
