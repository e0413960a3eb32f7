// Users (admin, manual §3 Steps 5–6): table, search, Add User with the rules checked as you type,
// change the user type, reset a password, deactivate and reactivate.
import { type FormEvent, useMemo, useState } from "react";
import { ok } from "../../../src/client/api";
import { ROLES, type Role } from "../../../src/domain/rules";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { RowButton, useRowActions } from "../components/RowActions";
import { useFormFields } from "../components/useFormFields";
import type { User } from "../context";
import { dateTime, roleLabel } from "../format";
import { newUserProblems, passwordProblem } from "../rules";
import { api } from "../session";
import {
  Dialog,
  ErrorText,
  Input,
  Options,
  PageHead,
  Pager,
  PrimaryButton,
  Select,
  Table,
  useAction,
  usePaging,
  usePoll,
} from "../ui";

// GET /api/users answers a pre-serialised body (its hot path), so Eden sees a Response; the
// items are the same UserView that GET /api/me returns.
const listUsers = async (): Promise<{ items: User[]; total: number }> => {
  const res = await ok(api.api.users.get({ query: { limit: "500" } }));
  return (res instanceof Response ? await res.json() : res) as { items: User[]; total: number };
};

export function Users() {
  const users = usePoll(listUsers, []);
  const [search, setSearch] = useState("");
  const paging = usePaging();
  const adding = useDialogSlot();
  const editing = useDialogSlot<User>();
  const act = useRowActions(users.reload);
  const matching = useMemo(
    () => (users.data?.items ?? []).filter((u) => u.userId.includes(search.trim().toLowerCase())),
    [users.data, search],
  );
  const shown = users.data ? matching.slice(paging.offset, paging.offset + paging.limit) : null;

  const setActive = (u: User, active: boolean) => {
    const patch = () => ok(api.api.users({ userId: u.userId }).patch({ active }));
    return active
      ? act.thenReload(patch)
      : act.askThen(`Deactivate ${u.userId}? They can no longer log in.`, patch, "Deactivate");
  };

  return (
    <section>
      <PageHead title="Users" crumbs="Dashboard › Users">
        <PrimaryButton onClick={() => adding.show(true)}>Add User</PrimaryButton>
      </PageHead>
      <div className="filters">
        <Input
          label="Search"
          type="search"
          placeholder="User ID"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            paging.setOffset(0);
          }}
        />
      </div>
      <ErrorText>{users.error ?? act.error}</ErrorText>
      <Table
        label="Users"
        error={users.error}
        rows={shown}
        rowKey={(u) => u.userId}
        empty={search ? `No user ID contains "${search}".` : "No users yet. Choose Add User."}
        columns={[
          { header: "User Type", cell: (u) => roleLabel(u.role) },
          {
            header: "User ID",
            cell: (u) => (
              <>
                {u.userId}
                {!u.active ? <span className="tag">deactivated</span> : null}
                {u.totpEnabled ? <span className="tag">2FA</span> : null}
              </>
            ),
          },
          { header: "Updated", cell: (u) => dateTime(u.updatedAt) },
          { header: "Registered", cell: (u) => dateTime(u.createdAt) },
          {
            header: "Actions",
            cell: (u) => (
              <span className="row-actions">
                <RowButton label={`Edit ${u.userId}`} onClick={() => editing.show(u)}>
                  Edit
                </RowButton>
                {u.active ? (
                  <RowButton danger label={`Deactivate ${u.userId}`} onClick={() => setActive(u, false)}>
                    Deactivate
                  </RowButton>
                ) : (
                  <RowButton label={`Reactivate ${u.userId}`} onClick={() => setActive(u, true)}>
                    Reactivate
                  </RowButton>
                )}
              </span>
            ),
          },
        ]}
      />
      {users.data ? <Pager paging={paging} count={shown?.length ?? 0} total={matching.length} what="Users" /> : null}
      {adding.open ? <AddUser onClose={adding.close} onAdded={adding.closeThen(users.reload)} /> : null}
      {editing.open ? (
        <EditUser user={editing.open} onClose={editing.close} onSaved={editing.closeThen(users.reload)} />
      ) : null}
      {act.confirmDialog}
    </section>
  );
}

function AddUser(props: { onClose: () => void; onAdded: () => void }) {
  const { form, set } = useFormFields({ userId: "", password: "", again: "", role: "user" });
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const save = useAction();
  const problems = newUserProblems(form, touched);
  const blur = (k: string) => () => setTouched({ ...touched, [k]: true });
  const serverError = save.fieldError;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const all = newUserProblems(form, { userId: true, password: true, again: true });
    setTouched({ userId: true, password: true, again: true });
    if (Object.keys(all).length) return;
    void save.run(async () => {
      await ok(api.api.users.post({ userId: form.userId, password: form.password, role: form.role as Role }));
      props.onAdded();
    });
  };
  return (
    <Dialog title="Add User" onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <Input
          label="User ID"
          hint="3–20 lowercase letters, digits and hyphens; no hyphen first, last or twice in a row."
          autoComplete="off"
          value={form.userId}
          onChange={set("userId")}
          onBlur={blur("userId")}
          error={problems.userId ?? serverError("userId")}
        />
        <Input
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="8–20 characters with a letter, a digit and one of ~!@#$%^&*<>?"
          value={form.password}
          onChange={set("password")}
          onBlur={blur("password")}
          error={problems.password ?? serverError("password")}
        />
        <Input
          label="Password again"
          type="password"
          autoComplete="new-password"
          hint="Please enter the same password again."
          value={form.again}
          onChange={set("again")}
          onBlur={blur("again")}
          error={problems.again}
        />
        <Select label="User Type" value={form.role} onChange={set("role")} error={serverError("role")}>
          <Options values={ROLES} label={roleLabel} />
        </Select>
        <ErrorText>{save.otherError("userId", "password", "role")}</ErrorText>
        <DialogButtons onCancel={props.onClose} submit="Add" busy={save.busy} />
      </form>
    </Dialog>
  );
}

function EditUser(props: { user: User; onClose: () => void; onSaved: () => void }) {
  const { user } = props;
  const [role, setRole] = useState(user.role);
  const [password, setPassword] = useState("");
  const save = useAction();
  const pwProblem = password ? passwordProblem(password) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pwProblem) return;
    void save.run(async () => {
      await ok(
        api.api.users({ userId: user.userId }).patch({
          ...(role !== user.role ? { role } : {}),
          ...(password ? { password } : {}),
        }),
      );
      props.onSaved();
    });
  };
  return (
    <Dialog title={`Edit ${user.userId}`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <Select label="User Type" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <Options values={ROLES} label={roleLabel} />
        </Select>
        <Input
          label="New password"
          type="password"
          optional
          autoComplete="new-password"
          hint="Resets the password; the user must change it at the next login."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={pwProblem ?? save.fieldError("password")}
        />
        <ErrorText>{save.otherError("password")}</ErrorText>
        <DialogButtons onCancel={props.onClose} submit="Save" busy={save.busy} />
      </form>
    </Dialog>
  );
}
