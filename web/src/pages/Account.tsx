// Account: password change (always; alone while the first one is due), two-factor login with a
// QR code, API keys, SSH public key.
import { type FormEvent, useState } from "react";
import { renderSVG } from "uqr";
import { ok } from "../../../src/client/api";
import { RowButton, useRowActions } from "../components/RowActions";
import { useSession } from "../context";
import { dateTime, roleLabel } from "../format";
import { passwordProblem } from "../rules";
import { api } from "../session";
import { CopyButton, ErrorText, Input, PageHead, Table, TextArea, useAction, usePoll } from "../ui";

export function Account() {
  const s = useSession();
  return (
    <section>
      <PageHead title="Account" />
      <p>
        {s.me.userId} · {roleLabel(s.me.role)} · registered {dateTime(s.me.createdAt)}
      </p>
      <div className="grid2">
        <PasswordForm />
        {/* Until the first password is changed the API answers nothing else (403). */}
        {s.me.mustChangePassword ? null : (
          <>
            <TwoFactor />
            <SshKey />
            <ApiKeys />
          </>
        )}
      </div>
    </section>
  );
}

function PasswordForm() {
  const s = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const save = useAction();
  const problem = next ? passwordProblem(next) : null;
  const mismatch = again && again !== next ? "the two passwords differ" : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (problem || mismatch || !next) return;
    void save.run(async () => {
      await ok(api.api.me.password.post({ current, next }));
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
      await s.refreshMe();
    });
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="pw-title">
      <h2 id="pw-title">Change password</h2>
      {s.me.mustChangePassword ? (
        <p className="notice" role="status">
          Please choose a new password before you go on.
        </p>
      ) : null}
      <Input
        label="Current password"
        type="password"
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
        error={save.fieldError("current")}
      />
      <Input
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        hint="8–20 characters with a letter, a digit and one of ~!@#$%^&*<>?"
        value={next}
        onChange={(e) => {
          setNext(e.target.value);
          setDone(false);
        }}
        error={problem ?? save.fieldError("next")}
      />
      <Input
        label="New password again"
        type="password"
        autoComplete="new-password"
        required
        value={again}
        onChange={(e) => setAgain(e.target.value)}
        error={mismatch}
      />
      <ErrorText>{save.otherError("current", "next")}</ErrorText>
      {done ? <p role="status">Password changed.</p> : null}
      <button type="submit" className="primary" disabled={save.busy}>
        Change password
      </button>
    </form>
  );
}

function TwoFactor() {
  const s = useSession();
  const [setup, setSetup] = useState<{ secret: string; otpauthUrl: string } | null>(null);
  const [code, setCode] = useState("");
  const act = useAction();
  const begin = () =>
    act.run(async () => {
      setSetup(await ok(api.api.me.totp.post()));
    });
  const confirm = (e: FormEvent) => {
    e.preventDefault();
    void act.run(async () => {
      if (s.me.totpEnabled) await ok(api.api.me.totp.delete({ code }));
      else await ok(api.api.me.totp.confirm.post({ code }));
      setSetup(null);
      setCode("");
      await s.refreshMe();
    });
  };
  return (
    <form className="panel" onSubmit={confirm} aria-labelledby="tfa-title">
      <h2 id="tfa-title">Two-factor login</h2>
      <p>{s.me.totpEnabled ? "On: logging in asks for a code from your app." : "Off."}</p>
      {!s.me.totpEnabled && !setup ? (
        <button type="button" onClick={() => void begin()} disabled={act.busy}>
          Enable two-factor login
        </button>
      ) : null}
      {setup ? (
        <>
          <p>Scan this with an authenticator app, then type the code it shows.</p>
          <div
            className="qr"
            role="img"
            aria-label="QR code for the authenticator app"
            // biome-ignore lint/security/noDangerouslySetInnerHtml: uqr renders an SVG from our own otpauth URL
            dangerouslySetInnerHTML={{ __html: renderSVG(setup.otpauthUrl, { border: 2 }) }}
          />
          <p className="small-text">
            Or enter the secret: <code>{setup.secret}</code> <CopyButton text={setup.secret} label="Copy secret" />
          </p>
        </>
      ) : null}
      {setup || s.me.totpEnabled ? (
        <>
          <Input
            label="Code from the app"
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <button type="submit" className={s.me.totpEnabled ? "danger" : "primary"} disabled={act.busy || !code}>
            {s.me.totpEnabled ? "Turn off two-factor login" : "Confirm"}
          </button>
        </>
      ) : null}
      <ErrorText>{act.error}</ErrorText>
    </form>
  );
}

function SshKey() {
  const s = useSession();
  const [key, setKey] = useState("");
  const [done, setDone] = useState(false);
  const save = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run(async () => {
      await ok(api.api.me["ssh-key"].put({ publicKey: key.trim() }));
      setDone(true);
      setKey("");
      await s.refreshMe();
    });
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="ssh-title">
      <h2 id="ssh-title">SSH public key</h2>
      <p>
        {s.me.hasSshKey ? "A key is set." : "No key yet."} With it,{" "}
        <code>
          ssh {s.me.userId}@{location.hostname} -p PORT
        </code>{" "}
        reaches your running trainings (the port is on the training's page).
      </p>
      <TextArea
        label="Public key (OpenSSH)"
        rows={3}
        className="mono"
        placeholder="ssh-ed25519 AAAA… you@laptop"
        value={key}
        onChange={(e) => {
          setKey(e.target.value);
          setDone(false);
        }}
        error={save.error}
      />
      {done ? <p role="status">Key saved.</p> : null}
      <button type="submit" className="primary" disabled={save.busy || !key.trim()}>
        Save key
      </button>
    </form>
  );
}

function ApiKeys() {
  const keys = usePoll(() => ok(api.api.me.keys.get({ query: {} })), [], 0);
  const [fresh, setFresh] = useState<{ accessKey: string; secretKey: string } | null>(null);
  const act = useRowActions(keys.reload);
  const create = () => act.thenReload(async () => setFresh(await ok(api.api.me.keys.post())));
  const remove = (accessKey: string) =>
    act.askThen(
      `Revoke API key ${accessKey}? Scripts using it stop working.`,
      () => ok(api.api.me.keys({ accessKey }).delete()),
      "Revoke",
    );
  return (
    <div className="panel">
      <h2>API keys</h2>
      <p className="hint">For scripts: the secret is a complete bearer token.</p>
      <button type="button" onClick={() => void create()} disabled={act.busy}>
        Create API key
      </button>
      {fresh ? (
        <div className="notice" role="status">
          Secret for {fresh.accessKey} (shown once): <code>{fresh.secretKey}</code>{" "}
          <CopyButton text={fresh.secretKey} label="Copy secret key" />
        </div>
      ) : null}
      <ErrorText>{keys.error ?? act.error}</ErrorText>
      <Table
        error={keys.error}
        label="API keys"
        rows={keys.data?.items ?? null}
        rowKey={(k) => k.accessKey}
        empty="No API keys."
        columns={[
          { header: "Access Key", cell: (k) => <code>{k.accessKey}</code> },
          { header: "Created", cell: (k) => dateTime(k.createdAt) },
          {
            header: "Actions",
            cell: (k) => (
              <RowButton danger label={`Revoke ${k.accessKey}`} onClick={() => remove(k.accessKey)}>
                Revoke
              </RowButton>
            ),
          },
        ]}
      />
      {act.confirmDialog}
    </div>
  );
}
