// Optional TOTP second factor (RFC 6238, 30 s steps, 6 digits) through `otpauth`.
import * as OTPAuth from "otpauth";

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

function totp(secret: string, label = "hangar"): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: "Hangar",
    label,
    algorithm: "SHA1",
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(secret),
  });
}

export function totpUri(secret: string, userId: string): string {
  return totp(secret, userId).toString();
}

/** Accepts the code of the current step and of one step either side (clock drift). */
export function verifyTotp(secret: string, code: string, now: Date): boolean {
  if (!secret || !/^\d{6}$/.test(code)) return false;
  return totp(secret).validate({ token: code, timestamp: now.getTime(), window: 1 }) !== null;
}

export function totpCode(secret: string, now: Date): string {
  return totp(secret).generate({ timestamp: now.getTime() });
}
