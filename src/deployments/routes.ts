import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { pageOf, pageQuery } from "../http/schemas";
import { memberPlugin } from "../workspaces/plugin";
import { CreateDeploymentBody, Deployment, DeploymentPage, DeploymentSession } from "./model";
import {
  createDeployment,
  deleteDeployment,
  deploymentSession,
  getDeployment,
  listDeployments,
  startDeployment,
  stopDeployment,
} from "./service";

const base = "/api/workspaces/:ws/deployments";
const tags = ["deployments"];

export const deploymentRoutes = (deps: Deps) =>
  new Elysia()
    .use(memberPlugin(deps))
    .get(
      base,
      async ({ principal, params, query }) => pageOf(await listDeployments(deps, principal, params.ws), query),
      {
        member: true,
        query: pageQuery,
        response: { 200: DeploymentPage },
        detail: { tags, summary: "Deployments of a workspace" },
      },
    )
    .post(
      base,
      async ({ principal, params, body, status }) =>
        status(201, await createDeployment(deps, principal, params.ws, body)),
      {
        member: true,
        body: CreateDeploymentBody,
        response: { 201: Deployment },
        detail: {
          tags,
          summary:
            "Create and start a deployment: a serving container on the workspace's deployment GPUs, at /deployments/<ws>/<name>/ on a port of its own",
        },
      },
    )
    .post(
      `${base}/:dp/session`,
      ({ principal, params, request }) =>
        deploymentSession(deps, principal, params.ws, params.dp, request.headers.get("authorization")),
      {
        member: true,
        response: { 200: DeploymentSession },
        detail: {
          tags,
          summary:
            "Open a deployment in the browser: a one-use, 30-second ticket for its own origin; POSTed to loginUrl in a new tab it sets an HttpOnly cookie scoped to its path",
        },
      },
    )
    .get(`${base}/:dp`, ({ principal, params }) => getDeployment(deps, principal, params.ws, params.dp), {
      member: true,
      response: { 200: Deployment },
      detail: { tags, summary: "Deployment detail with status and URL" },
    })
    .post(`${base}/:dp/start`, ({ principal, params }) => startDeployment(deps, principal, params.ws, params.dp), {
      member: true,
      response: { 200: Deployment },
      detail: { tags, summary: "Start a stopped deployment again" },
    })
    .post(`${base}/:dp/stop`, ({ principal, params }) => stopDeployment(deps, principal, params.ws, params.dp), {
      member: true,
      response: { 200: Deployment },
      detail: { tags, summary: "Stop a deployment (frees its GPUs)" },
    })
    .delete(
      `${base}/:dp`,
      async ({ principal, params, set }) => {
        await deleteDeployment(deps, principal, params.ws, params.dp);
        set.status = 204;
      },
      { member: true, detail: { tags, summary: "Stop and delete a deployment" } },
    );
