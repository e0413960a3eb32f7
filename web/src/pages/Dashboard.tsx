// Dashboard (admin, manual §3 Step 1): the platform at a glance.
import { ok } from "../../../src/client/api";
import { bytes, dateTime, gpuUse } from "../format";
import { Link, path } from "../router";
import { api } from "../session";
import { ErrorText, PageHead, Status, Table, usePoll } from "../ui";

async function load() {
  const [counts, workspaces] = await Promise.all([
    ok(api.api.dashboard.get()),
    ok(api.api.workspaces.get({ query: { limit: "500" } })),
  ]);
  // Recent tasks: the newest of each active workspace's own list.
  const active = workspaces.items.filter((w) => w.status === "active");
  const details = await Promise.all(active.map((w) => ok(api.api.workspaces({ ws: w.name }).get())));
  return { counts, details };
}

export function Dashboard() {
  const d = usePoll(load, [], 5000);
  const c = d.data?.counts;
  const recent = (d.data?.details ?? [])
    .flatMap((w) => w.recentTasks.map((t) => ({ ...t, workspace: w.name })))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const last = c?.backups.last;
  return (
    <section>
      <PageHead title="Dashboard" />
      <ErrorText>{d.error}</ErrorText>
      <div className="cards">
        <Card title="Nodes" value={c ? `${c.nodes.attached}/${c.nodes.total} attached` : "…"}>
          {c?.nodes.error ? (
            <span className="error-text">
              {c.nodes.error} in error:{" "}
              {c.nodes.errors.map((n) => `${n.name}${n.message ? ` (${n.message})` : ""}`).join(", ")}
            </span>
          ) : (
            <span className="muted">none in error</span>
          )}
        </Card>
        <Card title="GPUs in use" value={c ? gpuUse(c.gpus.inUse, c.gpus.total) : "…"}>
          {c?.gpus.training ?? 0} training, {c?.gpus.deployment ?? 0} deployment
        </Card>
        <Card title="Active workspaces" value={String(c?.workspaces.active ?? "…")}>
          of {c?.workspaces.total ?? 0} workspaces
        </Card>
        <Card title="Jobs" value={`${c?.jobs.running ?? 0} running`}>
          {c?.jobs.pending ?? 0} pending
        </Card>
        <Card title="Storage used" value={c ? bytes(c.storage.dataDirBytes) : "…"}>
          {c?.storage.diskFreeBytes != null && c.storage.diskTotalBytes != null
            ? `data dir; ${bytes(c.storage.diskFreeBytes)} free of ${bytes(c.storage.diskTotalBytes)}`
            : "data dir"}
        </Card>
        <Card title="Last backup" value={last ? dateTime(last.takenAt) : "none yet"}>
          {last ? `${last.name}; ` : ""}
          {c?.backups.count ?? 0} backups, {bytes(c?.backups.bytes ?? 0)}
        </Card>
      </div>
      <h2>Recent tasks</h2>
      <Table
        label="Recent tasks"
        rows={d.data ? recent.slice(0, 15) : null}
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
