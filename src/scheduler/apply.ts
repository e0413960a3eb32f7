// The effects of a decision (decide.ts): every status change through moveJob, every waiting
// reason through setWaitingReason, containers through the runner.
import type { Deps } from "../deps";
import { engineMessage } from "../executor/port";
import { launchJob } from "../jobs/runner";
import { moveJob, setWaitingReason } from "../jobs/transitions";
import type { Action } from "./decide";

/** Applies `actions` in order; `now` (epoch ms) is the time the decision was made for. */
export async function applyActions(deps: Deps, actions: readonly Action[], now: number): Promise<void> {
  const at = new Date(now).toISOString();
  for (const action of actions) {
    switch (action.type) {
      case "lose":
        await lose(deps, action, at);
        break;
      case "wait":
        await setWaitingReason(deps, action.jobId, action.reason, {
          code: action.code,
          ...(action.attempts === undefined ? {} : { attempts: action.attempts }),
        });
        break;
      case "queue":
        await setWaitingReason(deps, action.jobId, "queued", { queuedAt: new Date(action.at).toISOString() });
        break;
      case "start":
        try {
          const row = await moveJob(
            deps,
            action.jobId,
            "starting",
            `starting on ${action.nodes.join(", ")}`,
            { node: action.assignments[0]?.nodeId ?? null, assignments: action.assignments },
            { from: ["pending"] },
          );
          void launchJob(deps, row);
        } catch (err) {
          deps.logger.warn("could not start a placed job", { job: action.jobId, err: engineMessage(err) });
        }
        break;
      case "fail": {
        const failed = await moveJob(
          deps,
          action.jobId,
          "failed",
          action.reason,
          { finishedAt: at },
          { code: "timeout" },
        ).catch(() => null);
        if (failed) deps.logs.end(action.jobId); // live log followers get their end, as for every other end
        break;
      }
    }
  }
}

async function lose(deps: Deps, action: Extract<Action, { type: "lose" }>, at: string): Promise<void> {
  const { jobId, node } = action;
  const lost = await moveJob(deps, jobId, "lost", `node ${node} stopped answering`, { finishedAt: at }).catch(
    () => null,
  );
  if (!lost) return;
  deps.logs.append(jobId, `[hangar] node ${node} stopped answering: job lost\n`);
  if (!action.requeue) {
    deps.logs.end(jobId);
    return;
  }
  await moveJob(
    deps,
    jobId,
    "pending",
    `requeued after node ${node} was lost`,
    { requeues: lost.requeues + 1, assignments: [], node: null, finishedAt: null, startedAt: null, attempts: 0 },
    { code: "requeued" },
  );
  deps.logs.append(jobId, `[hangar] requeued once on another node\n`);
  deps.logs.setLastTimestamp(jobId, "");
}
