import { Elysia, t } from "elysia";
import type { Deps } from "../deps";
import { authed } from "../http/context";
import { pageOf, pageQuery } from "../http/schemas";
import {
  addNode,
  connectNode,
  deleteNode,
  disconnectNode,
  getNode,
  listNodes,
  masterPublicKey,
  patchNode,
  probeNode,
} from "./service";

const tags = ["nodes"];
const admin = (deps: Deps) => authed(deps, "admin");
const interfaces = t.Optional(
  t.Object({
    control: t.Optional(t.String({ maxLength: 64 })),
    data: t.Optional(t.String({ maxLength: 64 })),
    infiniband: t.Optional(t.String({ maxLength: 64 })),
  }),
);
const target = {
  ip: t.String({ maxLength: 253 }),
  sshPort: t.Optional(t.Integer()),
  sshUser: t.Optional(t.String({ maxLength: 32 })),
  dockerSocket: t.Optional(t.String({ maxLength: 256 })),
};

export const nodeRoutes = (deps: Deps) =>
  new Elysia()
    .get("/api/nodes/master-key", () => masterPublicKey(deps), {
      transform: admin(deps),
      detail: { tags, summary: "The master's SSH public key, for workers' authorized_keys (admin)" },
    })
    .get("/api/nodes", async ({ query }) => pageOf((await listNodes(deps)).items, query), {
      transform: admin(deps),
      query: pageQuery,
      detail: { tags, summary: "Nodes with status, GPUs and usage (admin)" },
    })
    .post("/api/nodes/probe", ({ body }) => probeNode(deps, body), {
      transform: admin(deps),
      body: t.Object(target),
      detail: { tags, summary: "Get Info: interfaces, GPUs, CPUs, memory, Docker of a host over SSH (admin)" },
    })
    .post(
      "/api/nodes",
      async ({ body, set }) => {
        const node = await addNode(deps, body);
        set.status = 201;
        return node;
      },
      {
        transform: admin(deps),
        body: t.Object({ ...target, name: t.Optional(t.String({ maxLength: 64 })), interfaces }),
        detail: { tags, summary: "Add a worker (status detached; connect it next) (admin)" },
      },
    )
    .get("/api/nodes/:id", ({ params }) => getNode(deps, params.id), {
      transform: admin(deps),
      detail: { tags, summary: "One node (admin)" },
    })
    .patch("/api/nodes/:id", ({ params, body }) => patchNode(deps, params.id, body), {
      transform: admin(deps),
      body: t.Object({ name: t.Optional(t.String({ maxLength: 64 })), interfaces }),
      detail: { tags, summary: "Rename a node or choose its interfaces (admin)" },
    })
    .delete(
      "/api/nodes/:id",
      async ({ params, set }) => {
        await deleteNode(deps, params.id);
        set.status = 204;
      },
      { transform: admin(deps), detail: { tags, summary: "Delete a node that runs no job (admin)" } },
    )
    .post("/api/nodes/:id/connect", ({ params }) => connectNode(deps, params.id), {
      transform: admin(deps),
      detail: { tags, summary: "Attach: check SSH, Docker and GPUs, then accept placements (admin)" },
    })
    .post("/api/nodes/:id/disconnect", ({ params }) => disconnectNode(deps, params.id), {
      transform: admin(deps),
      detail: { tags, summary: "Detach: no new placements, running containers untouched (admin)" },
    });
