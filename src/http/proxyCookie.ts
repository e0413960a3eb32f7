// How a browser gets into a notebook or a deployment, which are served on origins of their own
// (http/appOrigins), without a token in any URL:
// 1. the web UI (logged in, its bearer token in its own storage) asks the API for a ticket for
//    that app: one use, 30 seconds, bound to the app and to the caller's login session;
// 2. it POSTs the ticket in a form (a new top-level tab) to <app origin><prefix>_hangar_login;
// 3. the master takes the ticket back, sets an HttpOnly cookie sent only under the app's path
//    and 303-redirects to the app.
// The cookie is not the session token: it is sealed (AES-GCM, the master's secrets key) and names
// the app and the session's hash, so it opens that one app only, never the API, and stops with
// the session (logout, password change, deactivation) and after 12 hours at most.
import type { Principal } from "../auth/cache";
import { principalFrom, rememberPrincipal } from "../auth/context";
import { sessionByHash } from "../auth/service";
import type { Deps } from "../deps";
import { badRequest, forbidden, unauthorized } from "../domain/errors";
import { randomToken, sha256 } from "../lib/secrets";

export const PROXY_COOKIE_HOURS = 12;
export const TICKET_SECONDS = 30;
/** The path under an app's prefix that takes a ticket. */
export const LOGIN_PATH = "_hangar_login";

export interface AppRef {
  kind: "notebook" | "deployment";
  ws: string;
  /** The training (notebooks) or the deployment's name. */
  name: string;
}

/** `/notebooks/<ws>/<training>/` or `/deployments/<ws>/<name>/`: the app's place on its origin. */
export const appPrefix = (app: AppRef) => `/${app.kind}s/${app.ws}/${app.name}/`;
export const appKey = (app: AppRef) => `${app.kind}:${app.ws}/${app.name}`;
/** The cookie's name: hangar_nb (notebooks) or hangar_dp (deployments). */
export const appCookieName = (app: AppRef) => (app.kind === "notebook" ? "hangar_nb" : "hangar_dp");

interface Ticket {
  app: string;
  sessionHash: string;
  expiresAt: number;
}

/** One-use tickets, in memory (they live 30 seconds). */
export class AppTickets {
  private readonly tickets = new Map<string, Ticket>();

  /** A ticket for `app`, for the login session whose bearer token is `authorization`. */
  issue(
    app: AppRef,
    principal: Principal,
    authorization: string | null,
    now: number,
  ): { ticket: string; expiresAt: number } {
    if (principal.via !== "session")
      throw forbidden("opening an app in the browser needs a login session, not an API key", "session_required");
    const token = authorization?.replace(/^bearer\s+/i, "") ?? "";
    for (const [k, t] of this.tickets) if (t.expiresAt <= now) this.tickets.delete(k);
    const ticket = randomToken("ht_", 24);
    const expiresAt = now + TICKET_SECONDS * 1000;
    this.tickets.set(sha256(ticket), { app: appKey(app), sessionHash: sha256(token), expiresAt });
    return { ticket, expiresAt };
  }

  /** Takes the ticket back (it works once); the session hash it was issued for, or null. */
  redeem(app: AppRef, ticket: string, now: number): string | null {
    const key = sha256(ticket);
    const t = this.tickets.get(key);
    this.tickets.delete(key);
    if (!t || t.expiresAt <= now || t.app !== appKey(app)) return null;
    return t.sessionHash;
  }
}

interface CookieBody {
  /** appKey */
  a: string;
  /** sha256 of the session token */
  h: string;
  /** expiry, epoch ms */
  e: number;
}

/** The Set-Cookie of an app after a ticket was taken back; null when the session is gone. */
export async function appCookie(
  deps: Deps,
  app: AppRef,
  sessionHash: string,
  secure: boolean,
): Promise<{ cookie: string; principal: Principal } | null> {
  const principal = await sessionByHash(deps, sessionHash).catch(() => null);
  if (!principal) return null;
  const now = deps.clock.now().getTime();
  const expires = Math.min(now + PROXY_COOKIE_HOURS * 3600_000, principal.expiresAt);
  const body: CookieBody = { a: appKey(app), h: sessionHash, e: expires };
  const value = encodeURIComponent(deps.secrets.seal(JSON.stringify(body)));
  const maxAge = Math.max(0, Math.floor((expires - now) / 1000));
  // SameSite=Lax: a link to the app from elsewhere opens it; other apps on this host are
  // same-site anyway, so the Origin check in appPrincipal is what stops their requests.
  const attrs = `Path=${appPrefix(app)}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
  return { cookie: `${appCookieName(app)}=${value}; ${attrs}`, principal };
}

/** The value of cookie `name` in a Cookie header, or null. */
export function cookieValue(cookies: string | null, name: string): string | null {
  for (const part of (cookies ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Who calls an app: `Authorization: Bearer` (scripts, API keys) or the app's cookie. A token in
 * the query is refused, whatever else the request carries. A cookie-borne request from another
 * origin (another app's page on this host: browsers send cookies to every port of a host) is
 * refused, so no page can act on an app with its user's cookie.
 */
export async function appCaller(
  deps: Deps,
  request: Request,
  app: AppRef,
): Promise<{ principal: Principal; authorization: string | null }> {
  const url = new URL(request.url);
  if (url.searchParams.has("hangar_token"))
    throw unauthorized(
      "tokens in URLs are not accepted: send Authorization: Bearer <token>, or open the app from the web UI",
      "token_in_url",
    );
  const header = request.headers.get("authorization");
  if (header && /^bearer\s/i.test(header))
    return { principal: await principalFrom(deps, request, header), authorization: header };
  const raw = cookieValue(request.headers.get("cookie"), appCookieName(app));
  if (!raw) throw unauthorized("login required: open it from the web UI, or send Authorization: Bearer <token>");
  const origin = request.headers.get("origin");
  if (origin && origin !== ownOrigin(request))
    throw forbidden(`requests from ${origin} may not use this app's cookie`, "cross_origin");
  let body: CookieBody;
  try {
    body = JSON.parse(deps.secrets.open(decodeURIComponent(raw))) as CookieBody;
  } catch {
    throw unauthorized("this app's cookie is not valid; open it again from the web UI", "invalid_token");
  }
  if (body.a !== appKey(app) || !(body.e > deps.clock.now().getTime()))
    throw unauthorized("this app's cookie has expired; open it again from the web UI", "invalid_token");
  const principal = await sessionByHash(deps, body.h);
  rememberPrincipal(request, principal);
  return { principal, authorization: null };
}

/** The origin the request was sent to, as a browser names it in Origin. */
export function ownOrigin(request: Request): string {
  const url = new URL(request.url);
  return `${url.protocol}//${request.headers.get("host") ?? url.host}`;
}

/**
 * POST <prefix>_hangar_login with a form field `ticket`: the ticket is taken back and the app's
 * cookie set, then a 303 to the app. A used, expired or foreign ticket gets 401.
 */
export async function redeemTicket(deps: Deps, request: Request, app: AppRef): Promise<Response> {
  if (request.method !== "POST")
    throw badRequest("method", "open the app from the web UI (this address takes a one-use ticket by POST)");
  const form = new URLSearchParams(await request.text());
  const ticket = form.get("ticket") ?? "";
  const now = deps.clock.now().getTime();
  const sessionHash = ticket ? deps.apps.tickets.redeem(app, ticket, now) : null;
  const granted = sessionHash
    ? await appCookie(deps, app, sessionHash, new URL(request.url).protocol === "https:")
    : null;
  if (!granted)
    throw unauthorized("this link was used or has expired; open the app again from the web UI", "invalid_ticket");
  rememberPrincipal(request, granted.principal);
  return new Response(null, {
    status: 303,
    headers: {
      location: appPrefix(app),
      "set-cookie": granted.cookie,
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    },
  });
}

/** What the session routes answer: where the app is and a ticket for its login. */
export interface AppSession {
  path: string;
  url: string;
  loginUrl: string;
  scheme: "http" | "https";
  port: number;
  ticket: string;
  expiresAt: string;
}

export function appSession(deps: Deps, app: AppRef, principal: Principal, authorization: string | null): AppSession {
  const { ticket, expiresAt } = deps.apps.tickets.issue(app, principal, authorization, deps.clock.now().getTime());
  const url = deps.apps.url(app);
  return {
    path: appPrefix(app),
    url,
    loginUrl: `${url}${LOGIN_PATH}`,
    scheme: deps.apps.scheme,
    port: deps.apps.port(app),
    ticket,
    expiresAt: new Date(expiresAt).toISOString(),
  };
}
