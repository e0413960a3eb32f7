// The auth idiom for routes under /api/workspaces/:ws(/trainings/:tr): `member: true`
// authenticates, checks that the caller may see the workspace (and the training) and hands the
// handler `principal` — before the body is validated, so another tenant's object answers 404
// whatever was sent.
import { Elysia } from "elysia";
import { principalOf, rememberedPrincipal } from "../auth/context";
import type { Deps } from "../deps";
import { trainingFor } from "../trainings/service";
import { workspaceFor } from "./access";

export const memberPlugin = (deps: Deps) =>
  new Elysia({ name: "hangar-member" }).macro({
    member: (_: true) => ({
      async transform({ request, params }) {
        const principal = await principalOf(deps, request);
        const { ws, tr } = params as Record<string, string | undefined>;
        // trainingFor checks the workspace itself.
        if (ws && tr) await trainingFor(deps, principal, ws, tr);
        else if (ws) await workspaceFor(deps, principal, ws);
      },
      resolve: ({ request }) => ({ principal: rememberedPrincipal(request) }),
    }),
  });
