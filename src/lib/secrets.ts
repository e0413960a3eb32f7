// Random tokens and their hashes. Tokens are stored only as SHA-256 hashes.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `bytes` of randomness as base64url, with a prefix telling what the token is. */
export function randomToken(prefix: string, bytes = 32): string {
  return prefix + Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

/** A password that satisfies the account rules of docs/product.md (letters, digits, one special). */
export function generatePassword(): string {
  const pick = (chars: string) => {
    const r = crypto.getRandomValues(new Uint32Array(1))[0] as number;
    return chars[r % chars.length] as string;
  };
  let body = "";
  for (let i = 0; i < 13; i++) body += pick(ALPHABET);
  return `${body}${pick("23456789")}${pick("!@#$%*?")}${pick("abcdefghjkmnpqrstuvwxyz")}`;
}

export function sha256(value: string): string {
  return new Bun.CryptoHasher("sha256").update(value).digest("hex");
}
