// Shapes of /api/workspaces/:ws/trainings/:tr/start|stop: a notebook is a training of type
// notebook, so both answer with the training's detail (status, notebookUrl).
import type { Static } from "elysia";
import { TrainingDetail } from "../trainings/model";

export const NotebookState = TrainingDetail;
export type NotebookState = Static<typeof NotebookState>;
