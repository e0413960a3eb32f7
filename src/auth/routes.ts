import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authed, principalOf } from "../http/context";
import { pageOf, pageQuery } from "../http/schemas";
import { confirmTotp, disableTotp, getUser, setSshKey, startTotp } from "../users/service";
import { changePassword, createApiKey, deleteApiKey, listApiKeys, login, logout } from "./service";

const tags = ["auth"];

export const authRoutes = (deps: Deps) =>
  new Elysia()
    .post("/api/auth/login", ({ body }) => login(deps, body), {
      body: t.Object({
        userId: t.String({ maxLength: 100 }),
        password: t.String({ maxLength: 200 }),
        otp: t.Optional(t.String({ maxLength: 20 })),
      }),
      detail: { tags, summary: "Log in; returns a session token" },
    })
    .post(
      "/api/auth/logout",
      async ({ request, set }) => {
        await principalOf(deps, request);
        const token = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
        await logout(deps, token);
        set.status = 204;
      },
      { transform: authed(deps), detail: { tags, summary: "End this session" } },
    )
    .get(
      "/api/me",
      async ({ request }) => {
        const me = await principalOf(deps, request);
        return getUser(deps, me.userId);
      },
      { transform: authed(deps), detail: { tags, summary: "The logged-in user" } },
    )
    .post(
      "/api/me/password",
      async ({ request, body, set }) => {
        await changePassword(deps, await principalOf(deps, request), body);
        set.status = 204;
      },
      {
        body: t.Object({ current: t.String({ maxLength: 200 }), next: t.String({ maxLength: 200 }) }),
        transform: authed(deps),
        detail: { tags, summary: "Change my password" },
      },
    )
    .post(
      "/api/me/keys",
      async ({ request, set }) => {
        const key = await createApiKey(deps, await principalOf(deps, request));
        set.status = 201;
        return key;
      },
      { transform: authed(deps), detail: { tags, summary: "Create an API key (the secret is shown once)" } },
    )
    .get(
      "/api/me/keys",
      async ({ request, query }) => pageOf(await listApiKeys(deps, await principalOf(deps, request)), query),
      { transform: authed(deps), query: pageQuery, detail: { tags, summary: "My API keys (without secrets)" } },
    )
    .delete(
      "/api/me/keys/:accessKey",
      async ({ request, params, set }) => {
        await deleteApiKey(deps, await principalOf(deps, request), params.accessKey);
        set.status = 204;
      },
      { transform: authed(deps), detail: { tags, summary: "Revoke an API key" } },
    )
    .put(
      "/api/me/ssh-key",
      async ({ request, body }) => setSshKey(deps, await principalOf(deps, request), body.publicKey),
      {
        body: t.Object({ publicKey: t.String({ maxLength: 16_384 }) }),
        transform: authed(deps),
        detail: { tags, summary: "Set my OpenSSH public key for the SSH gateway" },
      },
    )
    .post("/api/me/totp", async ({ request }) => startTotp(deps, await principalOf(deps, request)), {
      transform: authed(deps),
      detail: { tags, summary: "Start two-factor setup: returns a TOTP secret to confirm" },
    })
    .post(
      "/api/me/totp/confirm",
      async ({ request, body }) => confirmTotp(deps, await principalOf(deps, request), body.code),
      {
        body: t.Object({ code: t.String({ maxLength: 20 }) }),
        transform: authed(deps),
        detail: { tags, summary: "Turn two-factor login on with a code from the app" },
      },
    )
    .delete(
      "/api/me/totp",
      async ({ request, body }) => disableTotp(deps, await principalOf(deps, request), body.code),
      {
        body: t.Object({ code: t.String({ maxLength: 20 }) }),
        transform: authed(deps),
        detail: { tags, summary: "Turn two-factor login off (needs a current code)" },
      },
    );
