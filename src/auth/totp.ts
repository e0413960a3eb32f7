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
  return totpStep(secret, code, now) !== null;
}

/** The time step a valid code belongs to (current ± 1), or null. */
function totpStep(secret: string, code: string, now: Date): number | null {
  if (!secret || !/^\d{6}$/.test(code)) return null;
  const delta = totp(secret).validate({ token: code, timestamp: now.getTime(), window: 1 });
  return delta === null ? null : Math.floor(now.getTime() / 30_000) + delta;
}

/**
 * The last time step each user's code was accepted at, so a code (seen over a shoulder or
 * replayed) works once: a code is accepted only for a later step than the last one. In memory:
 * a restart forgets it, which reopens at most the 90 s a code is valid anyway.
 */
export class TotpReplayGuard {
  private readonly last = new Map<string, number>();

  /** Verifies the code and, when valid and not used before, records its step. */
  accept(userId: string, secret: string, code: string, now: Date): boolean {
    const step = totpStep(secret, code, now);
    if (step === null) return false;
    if (step <= (this.last.get(userId) ?? -1)) return false;
    this.last.set(userId, step);
    if (this.last.size > 100_000) this.last.delete(this.last.keys().next().value as string);
    return true;
  }
}

export function totpCode(secret: string, now: Date): string {
  return totp(secret).generate({ timestamp: now.getTime() });
}
