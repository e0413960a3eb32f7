// The browser's way through the notebook and deployment proxies: the caller's own bearer token
// in an HttpOnly, SameSite=Strict cookie sent only under one proxied path, so a new tab needs
// no token in its URL and the proxied pages (same origin, running user code) cannot read it.
// It ends with the session (logout stops it at once) and after 12 hours at most.
import type { Principal } from "../auth/cache";

export const PROXY_COOKIE_HOURS = 12;

export function proxyCookie(
  name: string,
  path: string,
  authorization: string | null,
  principal: Principal,
  now: number,
): { expiresAt: string; cookie: string } {
  const token = authorization?.replace(/^bearer\s+/i, "") ?? "";
  const expires = Math.min(now + PROXY_COOKIE_HOURS * 3600_000, principal.expiresAt);
  const maxAge = Math.max(0, Math.floor((expires - now) / 1000));
  return {
    expiresAt: new Date(expires).toISOString(),
    cookie: `${name}=${encodeURIComponent(token)}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict`,
  };
}
