// The browser's session: the token (sessionStorage only, no cookie) and the one typed API
// client. Notebooks and deployments are served on origins of their own (a port each), so their
// pages cannot read it; Open Editor and a deployment's Open get a one-use ticket from the API
// and POST it to the app's origin in a new tab (openApp), which sets that app's HttpOnly cookie.
import { makeApi } from "../../src/client/api";

const KEY = "hangar.token";
let token: string | null = sessionStorage.getItem(KEY);

export const api = makeApi(location.origin, () => token);
export const baseUrl = location.origin;

export function currentToken(): string | null {
  return token;
}

export function setToken(next: string | null): void {
  token = next;
  if (next) sessionStorage.setItem(KEY, next);
  else sessionStorage.removeItem(KEY);
  // The script-readable cookie earlier versions set: gone.
  for (const path of ["/", "/deployments/"]) {
    // biome-ignore lint/suspicious/noDocumentCookie: clearing a cookie older versions set
    document.cookie = `hangar_token=; path=${path}; max-age=0; SameSite=Strict`;
  }
}

const WS_KEY = "hangar.workspace";
export const rememberedWorkspace = () => localStorage.getItem(WS_KEY);
export const rememberWorkspace = (ws: string) => localStorage.setItem(WS_KEY, ws);

/** Opens a notebook or deployment in a new tab: a form POST of its ticket to its own origin. */
export function openApp(s: { scheme: string; port: number; path: string; ticket: string }): void {
  const form = document.createElement("form");
  form.method = "POST";
  // The host the web UI was reached at, with the app's port: the same name works for both.
  form.action = `${s.scheme}://${location.hostname}:${s.port}${s.path}_hangar_login`;
  form.target = "_blank";
  form.rel = "noopener noreferrer";
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = "ticket";
  input.value = s.ticket;
  form.append(input);
  document.body.append(form);
  form.submit();
  form.remove();
}
