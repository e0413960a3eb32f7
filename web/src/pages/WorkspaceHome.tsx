// Workspace Home and detail (manual §3 Step 9, §4 Step 2): info, counts, GPU use, recent tasks.
import { useEffect, useRef, useState } from "react";
import { ok } from "../../../src/client/api";
import { useSession } from "../context";
import { dateMinute, dateTime, percent, plural } from "../format";
import { Link, path } from "../router";
import { api } from "../session";
import { ErrorText, PageHead, Status, Table, usePoll } from "../ui";
import { Card } from "./Dashboard";
import { WorkspaceDialog } from "./Workspaces";

export function WorkspaceHome({ ws }: { ws: string }) {
  const s = useSession();
  const d = usePoll(() => ok(api.api.workspaces({ ws }).get()), [ws]);
  const [editing, setEditing] = useState(false);
  const w = d.data;
  if (!w) return d.error ? <ErrorText>{d.error}</ErrorText> : <p className="muted">Loading…</p>;
  const canEdit = s.isAdmin || w.manager === s.me.userId;
  return (
    <section>
      <PageHead title={`${w.name}'s details`} crumbs={<Link href="/workspaces">Workspaces</Link>}>
        {canEdit ? (
          <button type="button" onClick={() => setEditing(true)}>
            Edit Workspace
          </button>
        ) : null}
      </PageHead>
      <ErrorText>{d.error}</ErrorText>
      <div className="info">
        <p>{w.description || <span className="muted">No description.</span>}</p>
        <dl>
          <dt>Status</dt>
          <dd>
            <Status value={w.status} />
          </dd>
          <dt>Period</dt>
          <dd>
            {dateMinute(w.startsAt)} – {dateMinute(w.endsAt)}
          </dd>
          <dt>Manager</dt>
          <dd>{w.manager}</dd>
          <dt>Users</dt>
          <dd>{w.users.length ? w.users.join(", ") : "none"}</dd>
        </dl>
      </div>
      <div className="cards">
        <Card
          title="GPUs for Training"
          value={`${w.gpusInUse.training}/${w.trainingGpus} (${percent(w.gpusInUse.training, w.trainingGpus)})`}
        >
          <Meter used={w.gpusInUse.training} total={w.trainingGpus} label="Training GPUs in use" />
        </Card>
        <Card
          title="GPUs for Deployment"
          value={`${w.gpusInUse.deployment}/${w.deploymentGpus} (${percent(w.gpusInUse.deployment, w.deploymentGpus)})`}
        >
          <Meter used={w.gpusInUse.deployment} total={w.deploymentGpus} label="Deployment GPUs in use" />
        </Card>
        <Card title="Trainings" value={plural(w.counts.trainings, "training")}>
          <Link href={path("workspaces", ws, "trainings")}>Open Trainings</Link>
        </Card>
        <Card title="Deployments" value={plural(w.counts.deployments, "deployment")}>
          <Link href={path("workspaces", ws, "deployments")}>Open Deployments</Link>
        </Card>
        <Card title="Docker Images" value={plural(w.counts.images, "docker image")}>
          <Link href="/docker-images">Open Docker Images</Link>
        </Card>
        <Card title="Datasets" value={plural(w.counts.datasets, "dataset")}>
          <Link href={path("workspaces", ws, "datasets")}>Open Datasets</Link>
        </Card>
      </div>
      <GpuUsageChart ws={ws} />
      <h2>Recent Tasks History</h2>
      <Table
        label="Recent tasks"
        rows={w.recentTasks}
        rowKey={(t) => t.id}
        empty="Nothing has run here yet. Create a training, then a job."
        columns={[
          { header: "Status", cell: (t) => <Status value={t.status} /> },
          {
            header: "Task",
            cell: (t) =>
              t.kind === "run" ? (
                <Link href={path("workspaces", ws, "trainings", t.training, "jobs", t.id)}>{t.name}</Link>
              ) : (
                t.name
              ),
          },
          { header: "Kind", cell: (t) => t.kind },
          {
            header: "Training",
            cell: (t) => <Link href={path("workspaces", ws, "trainings", t.training)}>{t.training}</Link>,
          },
          { header: "By", cell: (t) => t.createdBy },
          { header: "Created", cell: (t) => dateTime(t.createdAt) },
        ]}
      />
      {editing ? (
        <WorkspaceDialog
          workspace={w}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            d.reload();
            s.reloadWorkspaces();
          }}
        />
      ) : null}
    </section>
  );
}

export function Meter(props: { used: number; total: number; label: string }) {
  return <meter aria-label={props.label} min={0} max={Math.max(props.total, 1)} value={props.used} className="meter" />;
}

/** GPUs in use over the last 24 hours (15-minute averages), from the API's recorded series. */
function GpuUsageChart({ ws }: { ws: string }) {
  const d = usePoll(() => ok(api.api.workspaces({ ws })["gpu-usage"].get({ query: { step: "900" } })), [ws], 60_000);
  const box = useRef<HTMLDivElement>(null);
  const points = d.data?.points;
  useEffect(() => {
    const el = box.current;
    if (!el || !points) return;
    let undraw: (() => void) | undefined;
    let live = true;
    void import("../chart").then(({ drawUsage }) => {
      if (live) undraw = drawUsage(el, points, Math.max(320, el.clientWidth));
    });
    return () => {
      live = false;
      undraw?.();
    };
  }, [points]);
  const peak = points?.reduce((a, p) => Math.max(a, p.training + p.deployment), 0) ?? 0;
  return (
    <>
      <h2>GPU Usage</h2>
      <ErrorText>{d.error}</ErrorText>
      <figure className="chart" aria-label="GPU usage chart">
        <div ref={box} />
        <figcaption className="muted">
          {points
            ? `GPUs in use, last 24 hours, 15-minute averages (peak ${peak}).${peak === 0 ? " No GPUs were used in this period." : ""}`
            : "Loading…"}
        </figcaption>
      </figure>
    </>
  );
}
