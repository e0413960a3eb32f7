import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { pageOf, pageQuery } from "../http/schemas";
import { User } from "../users/model";
import { confirmTotp, disableTotp, getUser, setSshKey, startTotp } from "../users/service";
import { clientAddress } from "./context";
import {
  ApiKeyCreated,
  ApiKeyPage,
  LoginBody,
  LoginResult,
  PasswordChangeBody,
  SshKeyBody,
  TotpCodeBody,
  TotpSetup,
} from "./model";
import { authPlugin } from "./plugin";
import { changePassword, createApiKey, deleteApiKey, listApiKeys, login, logout } from "./service";

const tags = ["auth"];

const bearerToken = (request: Request) => (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");

export const authRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    .post("/api/auth/login", ({ body, request }) => login(deps, body, clientAddress(request)), {
      body: LoginBody,
      response: { 200: LoginResult },
      detail: { tags, summary: "Log in; returns a session token", security: [] },
    })
    .post(
      "/api/auth/logout",
      async ({ request, set }) => {
        await logout(deps, bearerToken(request));
        set.status = 204;
      },
      { auth: true, detail: { tags, summary: "End this session" } },
    )
    .get("/api/me", ({ principal }) => getUser(deps, principal.userId), {
      auth: true,
      response: { 200: User },
      detail: { tags, summary: "The logged-in user" },
    })
    .post(
      "/api/me/password",
      async ({ principal, body, request, set }) => {
        await changePassword(deps, principal, body, bearerToken(request));
        set.status = 204;
      },
      { auth: true, body: PasswordChangeBody, detail: { tags, summary: "Change my password" } },
    )
    .post("/api/me/keys", async ({ principal, status }) => status(201, await createApiKey(deps, principal)), {
      auth: true,
      response: { 201: ApiKeyCreated },
      detail: { tags, summary: "Create an API key (the secret is shown once)" },
    })
    .get("/api/me/keys", async ({ principal, query }) => pageOf(await listApiKeys(deps, principal), query), {
      auth: true,
      query: pageQuery,
      response: { 200: ApiKeyPage },
      detail: { tags, summary: "My API keys (without secrets)" },
    })
    .delete(
      "/api/me/keys/:accessKey",
      async ({ principal, params, set }) => {
        await deleteApiKey(deps, principal, params.accessKey);
        set.status = 204;
      },
      { auth: true, detail: { tags, summary: "Revoke an API key" } },
    )
    .put("/api/me/ssh-key", ({ principal, body }) => setSshKey(deps, principal, body.publicKey), {
      auth: true,
      body: SshKeyBody,
      response: { 200: User },
      detail: { tags, summary: "Set my OpenSSH public key for the SSH gateway" },
    })
    .post("/api/me/totp", ({ principal }) => startTotp(deps, principal), {
      auth: true,
      response: { 200: TotpSetup },
      detail: { tags, summary: "Start two-factor setup: returns a TOTP secret to confirm" },
    })
    .post("/api/me/totp/confirm", ({ principal, body }) => confirmTotp(deps, principal, body.code), {
      auth: true,
      body: TotpCodeBody,
      response: { 200: User },
      detail: { tags, summary: "Turn two-factor login on with a code from the app" },
    })
    .delete("/api/me/totp", ({ principal, body }) => disableTotp(deps, principal, body.code), {
      auth: true,
      body: TotpCodeBody,
      response: { 200: User },
      detail: { tags, summary: "Turn two-factor login off (needs a current code)" },
    });
