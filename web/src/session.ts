// The browser's session: the token (sessionStorage only: no cookie, so pages served through the
// notebook and deployment proxies, same origin and running user code, find none) and the one
// typed API client. Open Editor and a deployment's Open ask the API for an HttpOnly cookie
// scoped to that one path instead.
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
