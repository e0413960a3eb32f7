// Dashboard (admin, manual §3 Step 1): the platform at a glance.
import { ok } from "../../../src/client/api";
import { bytes, dateTime, gpuUse } from "../format";
import { Link, path } from "../router";
import { api } from "../session";
import { ErrorText, PageHead, Status, Table, usePoll } from "../ui";

async function load() {
  const [nodes, workspaces, backups] = await Promise.all([
    ok(api.api.nodes.get({ query: { limit: "500" } })),
    ok(api.api.workspaces.get({ query: { limit: "500" } })),
    ok(api.api.backups.get({ query: { limit: "500" } })),
  ]);
  const active = workspaces.items.filter((w) => w.status === "active");
  const details = await Promise.all(active.map((w) => ok(api.api.workspaces({ ws: w.name }).get())));
  return { nodes: nodes.items, workspaces: workspaces.items, details, backups: backups.items };
}

export function Dashboard() {
  const d = usePoll(load, [], 5000);
  const data = d.data;
  const nodes = data?.nodes ?? [];
  const attached = nodes.filter((n) => n.status === "attached").length;
  const errors = nodes.filter((n) => n.status === "error");
  const gpuTotal = nodes.reduce((a, n) => a + n.gpuTotal, 0);
  const gpuUsed = nodes.reduce((a, n) => a + n.gpusInUse, 0);
  const training = data?.details.reduce((a, w) => a + w.gpusInUse.training, 0) ?? 0;
  const deployment = data?.details.reduce((a, w) => a + w.gpusInUse.deployment, 0) ?? 0;
  const recent = (data?.details ?? [])
    .flatMap((w) => w.recentTasks.map((t) => ({ ...t, workspace: w.name })))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const running = recent.filter((t) => t.status === "running").length;
  const pending = recent.filter((t) => t.status === "pending" || t.status === "starting").length;
  const lastBackup = [...(data?.backups ?? [])].sort((a, b) => b.takenAt.localeCompare(a.takenAt))[0];
  const backupBytes = (data?.backups ?? []).reduce((a, b) => a + b.bytes, 0);
  return (
    <section>
      <PageHead title="Dashboard" />
      <ErrorText>{d.error}</ErrorText>
      <div className="cards">
        <Card title="Nodes" value={`${attached}/${nodes.length} attached`}>
          {errors.length ? (
            <span className="error-text">
              {errors.length} in error: {errors.map((n) => n.name).join(", ")}
            </span>
          ) : (
            <span className="muted">none in error</span>
          )}
        </Card>
        <Card title="GPUs in use" value={gpuUse(gpuUsed, gpuTotal)}>
          {training} training, {deployment} deployment
        </Card>
        <Card title="Active workspaces" value={String(data?.details.length ?? 0)}>
          of {data?.workspaces.length ?? 0} workspaces
        </Card>
        <Card title="Jobs" value={`${running} running`}>
          {pending} pending (recent tasks)
        </Card>
        <Card title="Last backup" value={lastBackup ? dateTime(lastBackup.takenAt) : "none yet"}>
          {data?.backups.length ?? 0} backups, {bytes(backupBytes)}
        </Card>
      </div>
      <h2>Recent tasks</h2>
      <Table
        label="Recent tasks"
        rows={data ? recent.slice(0, 15) : null}
        rowKey={(t) => t.id}
        empty="No jobs yet. Researchers run them from a workspace's Trainings."
        columns={[
          { header: "Status", cell: (t) => <Status value={t.status} /> },
          { header: "Task", cell: (t) => t.name },
          { header: "Kind", cell: (t) => t.kind },
          {
            header: "Training",
            cell: (t) => <Link href={path("workspaces", t.workspace, "trainings", t.training)}>{t.training}</Link>,
          },
          { header: "Workspace", cell: (t) => <Link href={path("workspaces", t.workspace)}>{t.workspace}</Link> },
          { header: "By", cell: (t) => t.createdBy },
          { header: "Created", cell: (t) => dateTime(t.createdAt) },
        ]}
      />
    </section>
  );
}

export function Card(props: { title: string; value: string; children?: React.ReactNode }) {
  return (
    <div className="card">
      <div className="card-title">{props.title}</div>
      <div className="card-value">{props.value}</div>
      <div className="card-foot">{props.children}</div>
    </div>
  );
}
