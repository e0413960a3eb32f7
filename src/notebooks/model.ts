// Shapes of /api/workspaces/:ws/trainings/:tr/start|stop: a notebook is a training of type
// notebook, so both answer with the training's detail (status, notebookUrl).
import { type Static, t } from "elysia";
import { Time } from "../http/schemas";
import { TrainingDetail } from "../trainings/model";

export const NotebookState = TrainingDetail;
export type NotebookState = Static<typeof NotebookState>;

/** Open Editor's and a deployment's Open: where the app is served and a one-use ticket to log in there. */
export const AppSession = t.Object({
  path: t.String({
    description: "the app's path on its origin: /notebooks/<ws>/<training>/ or /deployments/<ws>/<name>/",
  }),
  url: t.String({ description: "the app on its own origin (a port of its own)" }),
  loginUrl: t.String({
    description: "POST a form with `ticket` here (a new tab): sets the app's cookie, then 303 to the app",
  }),
  scheme: t.Union([t.Literal("http"), t.Literal("https")]),
  port: t.Integer({ description: "the app's port (the web UI pairs it with the host it was reached at)" }),
  ticket: t.String({ description: "one use, 30 seconds" }),
  expiresAt: Time,
});
export const NotebookSession = AppSession;
export type NotebookSession = Static<typeof NotebookSession>;
