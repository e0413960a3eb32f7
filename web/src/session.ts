// The browser's session: the token (sessionStorage, and a cookie that the deployment proxy
// reads when a deployment's link opens in a new tab), and the one typed API client. The cookie
// is sent under /deployments/ only: notebook pages (same origin, running user code) never see
// it; Open Editor gets its own HttpOnly cookie from the API instead.
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
  if (next) {
    sessionStorage.setItem(KEY, next);
    // biome-ignore lint/suspicious/noDocumentCookie: the deployment proxy reads this cookie in new tabs
    document.cookie = `hangar_token=${encodeURIComponent(next)}; path=/deployments/; SameSite=Strict`;
  } else {
    sessionStorage.removeItem(KEY);
    // biome-ignore lint/suspicious/noDocumentCookie: as above, cleared on logout
    document.cookie = "hangar_token=; path=/deployments/; max-age=0; SameSite=Strict";
    // biome-ignore lint/suspicious/noDocumentCookie: the cookie older versions set on every path
    document.cookie = "hangar_token=; path=/; max-age=0; SameSite=Strict";
  }
}

const WS_KEY = "hangar.workspace";
export const rememberedWorkspace = () => localStorage.getItem(WS_KEY);
export const rememberWorkspace = (ws: string) => localStorage.setItem(WS_KEY, ws);
