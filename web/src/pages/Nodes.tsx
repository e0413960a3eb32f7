// Nodes (admin, manual §3 Steps 2–4): the table, Add Node with Get Info, Edit, Connect, Delete.
import { type FormEvent, useState } from "react";
import { type Api, ok } from "../../../src/client/api";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { RowButton, useRowActions } from "../components/RowActions";
import { authorizeCommand, bytes, dateTime, gpuUse, plural } from "../format";
import { defaultChoice } from "../rules";
import { api } from "../session";
import {
  CopyButton,
  Dialog,
  ErrorText,
  Input,
  PageHead,
  Pager,
  PrimaryButton,
  Select,
  Status,
  Table,
  useAction,
  usePaging,
  usePoll,
} from "../ui";

type NodeList = Awaited<ReturnType<typeof listNodes>>;
type NodeView = NodeList["items"][number];
type Probe = Awaited<ReturnType<typeof probe>>;
type Iface = Probe["interfaces"][number];
type Choice = { control?: string; data?: string; infiniband?: string };

const listNodes = (limit: number, offset: number) =>
  ok(api.api.nodes.get({ query: { limit: String(limit), offset: String(offset) } }));
const probe = (body: Parameters<Api["api"]["nodes"]["probe"]["post"]>[0]) => ok(api.api.nodes.probe.post(body));

function interfaceLabel(n: NodeView): string {
  const name = n.interfaces.data || n.interfaces.control;
  if (!name) return "—";
  const facts = n.networkInterfaces.find((i) => i.name === name);
  return facts ? `${facts.kind} (${name})` : name;
}

export function Nodes() {
  const paging = usePaging();
  const nodes = usePoll(() => listNodes(paging.limit, paging.offset), [paging.limit, paging.offset]);
  const adding = useDialogSlot();
  const editing = useDialogSlot<NodeView>();
  const act = useRowActions(nodes.reload);

  const toggle = (n: NodeView) =>
    act.thenReload(() =>
      n.status === "attached" || n.status === "attaching" || n.schedulable
        ? ok(api.api.nodes({ id: n.id }).disconnect.post())
        : ok(api.api.nodes({ id: n.id }).connect.post()),
    );
  const remove = (n: NodeView) =>
    act.askThen(`Delete node ${n.name} (${n.ip})? Jobs can no longer run there.`, () =>
      ok(api.api.nodes({ id: n.id }).delete()),
    );

  const items = nodes.data?.items ?? null;
  return (
    <section>
      <PageHead title="Nodes" crumbs="Dashboard › Nodes">
        <PrimaryButton onClick={() => adding.show(true)}>Add Node</PrimaryButton>
      </PageHead>
      <p className="muted">{nodes.data ? plural(nodes.data.total, "node") : ""}</p>
      <ErrorText>{nodes.error ?? act.error}</ErrorText>
      <Table
        label="Nodes"
        error={nodes.error}
        rows={items}
        rowKey={(n) => n.id}
        empty="No nodes yet. Choose Add Node to add a GPU server by its IP."
        columns={[
          {
            header: "Status",
            cell: (n) => (
              <>
                <Status value={n.status} title={`last seen ${dateTime(n.lastSeenAt)}`} />
                {n.statusMessage ? <div className="reason">{n.statusMessage}</div> : null}
                <div className="reason" title="how jobs on it see the master's data dir">
                  storage: {n.storage}
                </div>
              </>
            ),
          },
          { header: "Node Name", cell: (n) => n.name },
          { header: "IP Address", cell: (n) => (n.sshPort === 22 ? n.ip : `${n.ip}:${n.sshPort}`) },
          { header: "Network Interface", cell: interfaceLabel },
          { header: "GPU Configuration(s)", cell: (n) => n.gpuConfig },
          { header: "GPU in Use", cell: (n) => gpuUse(n.gpusInUse, n.gpuTotal) },
          {
            header: "CPU / Memory",
            cell: (n) => `${n.cpus} CPUs / ${bytes(n.memoryMiB * 1024 * 1024)}`,
          },
          {
            header: "Connection",
            cell: (n) => {
              const on = n.schedulable || n.status === "attaching";
              return (
                <label className="switch">
                  <input
                    type="checkbox"
                    role="switch"
                    aria-checked={on}
                    aria-label={`Connection of ${n.name}`}
                    checked={on}
                    disabled={act.busy || n.status === "attaching"}
                    onChange={() => void toggle(n)}
                  />
                  <span>{n.status === "attaching" ? "Attaching…" : on ? "On" : "Off"}</span>
                </label>
              );
            },
          },
          {
            header: "Actions",
            cell: (n) => (
              <span className="row-actions">
                <RowButton label={`Edit ${n.name}`} onClick={() => editing.show(n)}>
                  Edit
                </RowButton>
                {n.name !== "local" ? (
                  <RowButton danger label={`Delete ${n.name}`} onClick={() => remove(n)}>
                    Delete
                  </RowButton>
                ) : null}
              </span>
            ),
          },
        ]}
      />
      {nodes.data ? (
        <Pager paging={paging} count={nodes.data.items.length} total={nodes.data.total} what="Nodes" />
      ) : null}
      {adding.open ? <AddNode onClose={adding.close} onAdded={adding.closeThen(nodes.reload)} /> : null}
      {editing.open ? (
        <EditNode node={editing.open} onClose={editing.close} onSaved={editing.closeThen(nodes.reload)} />
      ) : null}
      {act.confirmDialog}
    </section>
  );
}

/** The three interface selects of the manual (1 GbE control, 10 GbE data, optional InfiniBand). */
function InterfaceSelects(props: { interfaces: Iface[]; choice: Choice; onChange: (c: Choice) => void }) {
  const { interfaces, choice } = props;
  const options = (filter: (i: Iface) => boolean) =>
    interfaces.filter(filter).map((i) => (
      <option key={i.name} value={i.name}>
        {i.name} ({i.kind}
        {i.addresses[0] ? `, ${i.addresses[0]}` : ""})
      </option>
    ));
  const any = () => true;
  return (
    <fieldset>
      <legend>Network Interface Settings</legend>
      <Select
        label="Ethernet - 1Gbps"
        hint="The control network: SSH and Docker."
        value={choice.control ?? ""}
        onChange={(e) => props.onChange({ ...choice, control: e.target.value || undefined })}
      >
        <option value="">Choose the interface</option>
        {options(any)}
      </Select>
      <Select
        label="Ethernet - 10Gbps"
        optional
        hint="The data network between nodes."
        value={choice.data ?? ""}
        onChange={(e) => props.onChange({ ...choice, data: e.target.value || undefined })}
      >
        <option value="">None</option>
        {options(any)}
      </Select>
      <Select
        label="InfiniBand"
        optional
        value={choice.infiniband ?? ""}
        onChange={(e) => props.onChange({ ...choice, infiniband: e.target.value || undefined })}
      >
        <option value="">None</option>
        {options((i) => i.kind === "InfiniBand")}
      </Select>
    </fieldset>
  );
}

function AddNode(props: { onClose: () => void; onAdded: () => void }) {
  const [ip, setIp] = useState("");
  const [sshPort, setSshPort] = useState("22");
  const [sshUser, setSshUser] = useState("root");
  const [name, setName] = useState("");
  const [info, setInfo] = useState<Probe | null>(null);
  const [choice, setChoice] = useState<Choice>({});
  const key = usePoll(() => ok(api.api.nodes["master-key"].get()), [], 0);
  const getInfo = useAction();
  const add = useAction();
  const target = () => ({ ip: ip.trim(), sshPort: Number(sshPort) || 22, sshUser: sshUser.trim() || "root" });

  const fetchInfo = () =>
    getInfo.run(async () => {
      const facts = await probe(target());
      setInfo(facts);
      setChoice(defaultChoice(facts.interfaces));
      if (!name && facts.hostname) setName("");
    });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void add.run(async () => {
      await ok(
        api.api.nodes.post({
          ...target(),
          ...(name.trim() ? { name: name.trim() } : {}),
          interfaces: choice,
        }),
      );
      props.onAdded();
    });
  };
  const publicKey = key.data?.publicKey ?? "";
  return (
    <Dialog title="Add Node" onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <div className="ip-row">
          <Input
            label="IP"
            hint="The IP address of the node you want to add."
            required
            value={ip}
            onChange={(e) => setIp(e.target.value)}
            error={add.fieldError("ip")}
          />
          <button type="button" onClick={() => void fetchInfo()} disabled={!ip.trim() || getInfo.busy}>
            {getInfo.busy ? "Getting info…" : "Get Info"}
          </button>
        </div>
        <div className="row">
          <Input
            label="SSH port"
            type="number"
            min={1}
            max={65535}
            value={sshPort}
            onChange={(e) => setSshPort(e.target.value)}
          />
          <Input label="SSH user" value={sshUser} onChange={(e) => setSshUser(e.target.value)} />
          <Input
            label="Node Name"
            optional
            hint="Default: the server's host name."
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={add.fieldError("name")}
          />
        </div>
        <ErrorText>{getInfo.error}</ErrorText>
        {info ? (
          <div className="facts" role="status" aria-label="Node info">
            <strong>{info.hostname}</strong>: {info.gpus.length} GPU{info.gpus.length === 1 ? "" : "s"}
            {info.gpus[0] ? ` (${info.gpus[0].name})` : ""}, {info.cpus} CPUs, {bytes(info.memoryMiB * 1048576)} memory,
            Docker {info.dockerVersion ?? "not found"}
          </div>
        ) : null}
        <InterfaceSelects interfaces={info?.interfaces ?? []} choice={choice} onChange={setChoice} />
        <fieldset>
          <legend>Master key</legend>
          <p className="hint">
            The master logs in to the node over SSH with this key. Run the command below on the node as{" "}
            {sshUser || "root"} first, then choose Get Info.
          </p>
          <div className="copy-row">
            <Input label="Master public key" readOnly value={publicKey} />
            <CopyButton text={publicKey} label="Copy key" />
          </div>
          <div className="copy-row">
            <Input
              label="Authorize command"
              readOnly
              value={publicKey ? authorizeCommand(publicKey, sshUser || "root") : ""}
            />
            <CopyButton text={publicKey ? authorizeCommand(publicKey, sshUser || "root") : ""} label="Copy command" />
          </div>
        </fieldset>
        <ErrorText>{add.otherError("ip", "name")}</ErrorText>
        <DialogButtons
          onCancel={props.onClose}
          submit={add.busy ? "Adding…" : "Add"}
          busy={add.busy}
          disabled={!ip.trim()}
        />
      </form>
    </Dialog>
  );
}

function EditNode(props: { node: NodeView; onClose: () => void; onSaved: () => void }) {
  const { node } = props;
  const [name, setName] = useState(node.name);
  const [choice, setChoice] = useState<Choice>(node.interfaces);
  const save = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run(async () => {
      await ok(
        api.api.nodes({ id: node.id }).patch({
          ...(name !== node.name ? { name } : {}),
          interfaces: choice,
        }),
      );
      props.onSaved();
    });
  };
  return (
    <Dialog title="Edit Node" onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>
          IP: <strong>{node.ip}</strong>
        </p>
        <Input
          label="Node Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={save.fieldError("name")}
        />
        <InterfaceSelects interfaces={node.networkInterfaces} choice={choice} onChange={setChoice} />
        <ErrorText>{save.otherError("name")}</ErrorText>
        <DialogButtons onCancel={props.onClose} submit="Edit" busy={save.busy} />
      </form>
    </Dialog>
  );
}
