// The one auth idiom of the API: a route says `auth: true` (any logged-in user) or
// `auth: "admin"` / `auth: ["admin", "manager"]` (those roles), and its handler gets `principal`.
// The check runs in the transform phase, before the body is validated, so a caller without the
// right gets 401/403 whatever they sent, never a 400 that probes the API. (Elysia runs resolve
// after validation; the transform does the work and the resolve only hands the result on typed.)
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import type { Role } from "../domain/rules";
import { principalOf, rememberedPrincipal } from "./context";

export type AuthOption = true | Role | readonly Role[];

const rolesOf = (option: AuthOption): readonly Role[] =>
  option === true ? [] : typeof option === "string" ? [option] : option;

export const authPlugin = (deps: Deps) =>
  new Elysia({ name: "hangar-auth" }).macro({
    auth: (option: AuthOption) => {
      const roles = rolesOf(option);
      return {
        async transform({ request }) {
          await principalOf(deps, request, roles);
        },
        resolve: ({ request }) => ({ principal: rememberedPrincipal(request) }),
      };
    },
  });
