// Resolved bearer tokens, kept for a few seconds so an authenticated request costs no query
// (keyed by the token itself, which lives only in this process's memory, never on disk).
// The master is the only writer of users, sessions and keys, so every change that must stop a
// token at once (logout, deactivation, role or password change, key deletion) drops it here.
import type { Role } from "../domain/rules";

export interface Principal {
  userId: string;
  role: Role;
  via: "session" | "apikey";
  /** Set when `via` is apikey. */
  accessKey?: string;
  /** Epoch ms after which the token is no longer valid (sessions). */
  expiresAt: number;
  /**
   * A login session of a user who must change their password first: only the change, logout
   * and GET /api/me work (auth/context). Never set for API keys or the master console's session.
   */
  mustChangePassword?: boolean;
}

const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

export class PrincipalCache {
  private entries = new Map<string, { principal: Principal; until: number }>();
  /** Token hashes of the master console's sessions (auth/localAdmin): no password was typed for them. */
  private readonly console = new Set<string>();

  markConsole(tokenHash: string, on: boolean): void {
    if (on) this.console.add(tokenHash);
    else this.console.delete(tokenHash);
  }

  isConsole(tokenHash: string): boolean {
    return this.console.has(tokenHash);
  }

  /** The console's session hashes: a password change or reset does not end them. */
  consoleSessions(): string[] {
    return [...this.console];
  }

  get(token: string, now: number): Principal | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.until <= now || e.principal.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return e.principal;
  }

  put(token: string, principal: Principal, now: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(token, { principal, until: now + TTL_MS });
  }

  dropToken(token: string): void {
    this.entries.delete(token);
  }

  dropUser(userId: string): void {
    for (const [k, e] of this.entries) if (e.principal.userId === userId) this.entries.delete(k);
  }
}
