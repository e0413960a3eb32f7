import { Elysia } from "elysia";
import { authPlugin } from "../auth/plugin";
import type { Deps } from "../deps";
import { pageOf, pageQuery } from "../http/schemas";
import { AddNodeBody, MasterKey, Node, NodePage, PatchNodeBody, ProbeNodeBody, ProbeResult } from "./model";
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

export const nodeRoutes = (deps: Deps) =>
  new Elysia()
    .use(authPlugin(deps))
    // Public (a public key): the worker installer fetches it over HTTPS pinned to the master's certificate.
    .get("/api/nodes/master-key", () => masterPublicKey(deps), {
      response: { 200: MasterKey },
      detail: {
        tags,
        summary: "The master's SSH public key, for workers' authorized_keys (no login needed)",
        security: [],
      },
    })
    .get("/api/nodes", async ({ query }) => pageOf((await listNodes(deps)).items, query), {
      auth: "admin",
      query: pageQuery,
      response: { 200: NodePage },
      detail: { tags, summary: "Nodes with status, GPUs and usage (admin)" },
    })
    .post("/api/nodes/probe", ({ body }) => probeNode(deps, body), {
      auth: "admin",
      body: ProbeNodeBody,
      response: { 200: ProbeResult },
      detail: { tags, summary: "Get Info: interfaces, GPUs, CPUs, memory, Docker of a host over SSH (admin)" },
    })
    .post("/api/nodes", async ({ body, status }) => status(201, await addNode(deps, body)), {
      auth: "admin",
      body: AddNodeBody,
      response: { 201: Node },
      detail: { tags, summary: "Add a worker (status detached; connect it next) (admin)" },
    })
    .get("/api/nodes/:id", ({ params }) => getNode(deps, params.id), {
      auth: "admin",
      response: { 200: Node },
      detail: { tags, summary: "One node (admin)" },
    })
    .patch("/api/nodes/:id", ({ params, body }) => patchNode(deps, params.id, body), {
      auth: "admin",
      body: PatchNodeBody,
      response: { 200: Node },
      detail: { tags, summary: "Rename a node or choose its interfaces (admin)" },
    })
    .delete(
      "/api/nodes/:id",
      async ({ params, set }) => {
        await deleteNode(deps, params.id);
        set.status = 204;
      },
      { auth: "admin", detail: { tags, summary: "Delete a node that runs no job (admin)" } },
    )
    .post("/api/nodes/:id/connect", ({ params }) => connectNode(deps, params.id), {
      auth: "admin",
      response: { 200: Node },
      detail: { tags, summary: "Attach: check SSH, Docker and GPUs, then accept placements (admin)" },
    })
    .post("/api/nodes/:id/disconnect", ({ params }) => disconnectNode(deps, params.id), {
      auth: "admin",
      response: { 200: Node },
      detail: { tags, summary: "Detach: no new placements, running containers untouched (admin)" },
    });
