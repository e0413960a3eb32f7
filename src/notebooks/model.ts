// Shapes of /api/workspaces/:ws/trainings/:tr/start|stop: a notebook is a training of type
// notebook, so both answer with the training's detail (status, notebookUrl).
import { type Static, t } from "elysia";
import { Time } from "../http/schemas";
import { TrainingDetail } from "../trainings/model";

export const NotebookState = TrainingDetail;
export type NotebookState = Static<typeof NotebookState>;

export const NotebookSession = t.Object({
  path: t.String({ description: "where the cookie is sent: /notebooks/<ws>/<training>/" }),
  expiresAt: Time,
});
export type NotebookSession = Static<typeof NotebookSession>;
