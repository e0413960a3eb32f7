// The SSH gateway with OpenSSH's own clients: exec and an interactive pty session (under tmux)
// inside a job's container on a worker, sftp into /code, and refusals (wrong key, another
// workspace's user, a stopped job).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { Client } from "ssh2";
import { dayOf } from "../../src/accesslog/writer";
import { pythonImage } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { keyPair as newKeyPair, SSH_OPTS } from "../helpers/ssh";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

async function ssh(port: number, key: string, user: string, command: string) {
  const p = Bun.spawn(["ssh", ...SSH_OPTS, "-p", String(port), "-i", key, `${user}@127.0.0.1`, command], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, out, err };
}

describe.each(STORE_TARGETS)("ssh gateway on %s", (target) => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-gateway-"));
  const keyPair = (name: string) => newKeyPair(dir, name);
  let m: TestMaster;
  let port: number;
  let jobId: string;
  let alice: { key: string; pub: string };
  let bob: { key: string; pub: string };
  let stranger: { key: string; pub: string };

  beforeAll(async () => {
    m = await startTestMaster(target, { schedulerBackstopSeconds: 0.2, sshHost: "127.0.0.1" }, { scheduler: true });
    const root = await m.rootToken();
    const aliceToken = await m.userWithToken("alice");
    const bobToken = await m.userWithToken("bob");
    [alice, bob, stranger] = await Promise.all([keyPair("alice"), keyPair("bob"), keyPair("stranger")]);
    expect((await m.json("PUT", "/api/me/ssh-key", { token: aliceToken, body: { publicKey: alice.pub } })).status).toBe(
      200,
    );
    expect((await m.json("PUT", "/api/me/ssh-key", { token: bobToken, body: { publicKey: bob.pub } })).status).toBe(
      200,
    );
    const w = testWorkers()[0];
    if (!w) throw new Error("no worker");
    await attachWorker(m, root, w, "gw-worker");
    for (const [name, users] of [
      ["lab-a", ["alice"]],
      ["lab-b", ["bob"]],
    ] as const)
      await makeWorkspace(m, root, name, { users });
    await makeTraining(m, aliceToken, "lab-a", "env");
    const image = pythonImage();
    const res = await m.json("POST", "/api/workspaces/lab-a/trainings/env/jobs", {
      token: aliceToken,
      body: { name: "shell", image, command: "sleep 600" },
    });
    jobId = res.body.items[0].id;
    for (let i = 0; i < 200; i++) {
      const j = (await m.json("GET", `/api/jobs/${jobId}`, { token: aliceToken })).body;
      if (j.status === "running" && j.sshPort) {
        port = j.sshPort;
        break;
      }
      await Bun.sleep(100);
    }
    if (!port) throw new Error("the job got no ssh port");
  });
  afterAll(async () => {
    await $`tmux kill-server`.quiet().nothrow();
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("OpenSSH exec runs inside the job's container on the worker", async () => {
    const r = await ssh(port, alice.key, "alice", `python3 -c "print(6*7)"`);
    expect(r.err).toBe("");
    expect(r.out).toBe("42\n");
    expect(r.code).toBe(0);
    const where = await ssh(port, alice.key, "alice", "echo $HANGAR_JOB_ID; pwd; exit 7");
    expect(where.out).toBe(`${jobId}\n/code\n`);
    expect(where.code).toBe(7);
  });

  test("an interactive session with a pty works under tmux", async () => {
    await $`tmux new-session -d -s gw -x 120 -y 30 ${["ssh", ...SSH_OPTS, "-tt", "-p", String(port), "-i", alice.key, "alice@127.0.0.1"].join(" ")}`;
    await Bun.sleep(1500);
    await $`tmux send-keys -t gw ${"echo $((6*7))-interactive; tty"} Enter`;
    let screen = "";
    for (let i = 0; i < 40 && !screen.includes("42-interactive"); i++) {
      await Bun.sleep(150);
      screen = await $`tmux capture-pane -p -t gw`.text();
    }
    expect(screen).toContain("42-interactive");
    expect(screen).toMatch(/\/dev\/pts\/\d+/);
    await $`tmux resize-window -t gw -x 100 -y 20`.quiet().nothrow();
    // The window change travels ssh → gateway → docker exec resize: ask until it has arrived.
    for (let i = 0; i < 20 && !screen.includes("20 100"); i++) {
      await $`tmux send-keys -t gw ${"stty size"} Enter`;
      await Bun.sleep(300);
      screen = await $`tmux capture-pane -p -t gw`.text();
    }
    expect(screen).toContain("20 100");
    await $`tmux send-keys -t gw exit Enter`;
  });

  test("sftp puts and gets a file in /code", async () => {
    writeFileSync(join(dir, "up.txt"), "hello through sftp\n");
    const batch = join(dir, "batch");
    writeFileSync(
      batch,
      `put ${join(dir, "up.txt")} /code/up.txt\nget /code/up.txt ${join(dir, "down.txt")}\nls /code\n`,
    );
    const p = Bun.spawn(["sftp", ...SSH_OPTS, "-P", String(port), "-i", alice.key, "-b", batch, "alice@127.0.0.1"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([
      p.exited,
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
    ]);
    expect(`${code} ${err}`).toBe("0 ");
    expect(out).toContain("up.txt");
    expect(readFileSync(join(dir, "down.txt"), "utf8")).toBe("hello through sftp\n");
    // The container sees the same file at /code.
    expect((await ssh(port, alice.key, "alice", "cat /code/up.txt")).out).toBe("hello through sftp\n");
  });

  test("a key generated for the training works once handed out, and stops when replaced", async () => {
    const token = await m.login("alice", "userPass1!");
    const first = await m.json("POST", "/api/workspaces/lab-a/trainings/env/ssh-key", { token });
    expect(first.status).toBe(201);
    expect(first.body.privateKey).toContain("OPENSSH PRIVATE KEY");
    const keyFile = join(dir, "id_container");
    writeFileSync(keyFile, first.body.privateKey, { mode: 0o600 });
    expect((await ssh(port, keyFile, "alice", "echo via-training-key")).out).toBe("via-training-key\n");
    const bobToken = await m.login("bob", "userPass1!");
    expect((await m.json("POST", "/api/workspaces/lab-a/trainings/env/ssh-key", { token: bobToken })).status).toBe(404);
    const second = await m.json("POST", "/api/workspaces/lab-a/trainings/env/ssh-key", { token });
    expect(second.body.publicKey).not.toBe(first.body.publicKey);
    expect((await ssh(port, keyFile, "alice", "true")).code).toBe(255);
  });

  test("anything but shell, exec and sftp is refused and logged", async () => {
    const p = Bun.spawn(
      ["ssh", ...SSH_OPTS, "-p", String(port), "-i", alice.key, "-W", "127.0.0.1:22", "alice@127.0.0.1"],
      {
        stdout: "pipe",
        stderr: "pipe",
        stdin: "pipe",
      },
    );
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(`${code} ${err}`).toContain("255 ");
    m.deps.accessLog.flush();
    const day = dayOf(m.clock.now());
    expect(readFileSync(join(m.config.dataDir, "log", `${day}.log`), "utf8")).toContain(
      "refused: port forwarding to 127.0.0.1:22",
    );
  });

  test("each new channel re-checks the user; a connection gets 6 failed authentication attempts", async () => {
    const conn = new Client();
    await new Promise<void>((resolve, reject) => {
      conn.once("ready", resolve).once("error", reject);
      conn.connect({ host: "127.0.0.1", port, username: "alice", privateKey: readFileSync(alice.key) });
    });
    const exec = (command: string) =>
      new Promise<string>((resolve, reject) =>
        conn.exec(command, (err, stream) => {
          if (err) return reject(err);
          let out = "";
          stream.on("data", (d: Buffer) => {
            out += d.toString();
          });
          stream.stderr.resume();
          stream.on("close", () => resolve(out));
        }),
      );
    const root = await m.rootToken();
    try {
      expect((await exec("echo one")).trim()).toBe("one");
      expect((await m.json("PATCH", "/api/users/alice", { token: root, body: { active: false } })).status).toBe(200);
      const after = await exec("echo two").then(
        (out) => `ran: ${out}`,
        (err: Error) => `refused: ${err.message}`,
      );
      expect(after).toStartWith("refused");
    } finally {
      await m.json("PATCH", "/api/users/alice", { token: root, body: { active: true } });
      conn.end();
    }
    m.deps.accessLog.flush();
    const day = dayOf(m.clock.now());
    expect(readFileSync(join(m.config.dataDir, "log", `${day}.log`), "utf8")).toContain(
      "refused: new channel: unknown or deactivated user",
    );

    // A client offering one wrong key after another is cut off after 6 rejections.
    const guesser = new Client();
    let tries = 0;
    const outcome = await new Promise<string>((resolve) => {
      guesser.on("ready", () => resolve("authenticated"));
      guesser.on("error", (err) => resolve(`error: ${err.message}`));
      guesser.on("close", () => resolve("closed"));
      guesser.connect({
        host: "127.0.0.1",
        port,
        username: "alice",
        authHandler: (_methods, _partial, next) => {
          if (++tries > 20) return false;
          next({ type: "publickey", username: "alice", key: readFileSync(stranger.key) });
        },
      });
    });
    guesser.end();
    expect(outcome).not.toBe("authenticated");
    expect(tries).toBeLessThanOrEqual(7);
  });

  test("a wrong key, another workspace's user and a stopped job are refused", async () => {
    const wrong = await ssh(port, stranger.key, "alice", "true");
    expect(wrong.code).toBe(255);
    expect(wrong.err).toContain("Permission denied");
    const other = await ssh(port, bob.key, "bob", "true");
    expect(other.code).toBe(255);
    expect(other.err).toContain("Permission denied");
    m.deps.accessLog.flush();
    const day = dayOf(m.clock.now());
    const log = readFileSync(join(m.config.dataDir, "log", `${day}.log`), "utf8");
    expect(log).toContain("no access to training env");
    // A connection still open when the job stops (here one without a session, `ssh -N`) is
    // ended with it, and does not hold up the scheduler, which closes the job's port after its pass.
    const open = Bun.spawn(["ssh", ...SSH_OPTS, "-v", "-N", "-p", String(port), "-i", alice.key, "alice@127.0.0.1"], {
      stdout: "ignore",
      stderr: "pipe",
      stdin: "ignore",
    });
    const stderr = open.stderr.pipeThrough(new TextDecoderStream()).getReader();
    for (let seen = ""; !seen.includes("Authenticated to"); ) {
      const { value, done } = await stderr.read();
      if (done) throw new Error(`ssh -N ended early: ${seen}`);
      seen += value;
    }
    const token = await m.login("alice", "userPass1!");
    await m.json("POST", `/api/jobs/${jobId}/cancel`, { token });
    const idle = await Promise.race([
      (m.scheduler?.idle() ?? Promise.resolve()).then(() => "idle"),
      Bun.sleep(15_000).then(() => "stuck"),
    ]);
    expect(idle).toBe("idle");
    const ended = await Promise.race([open.exited.then(() => "ended"), Bun.sleep(15_000).then(() => "still open")]);
    expect(ended).toBe("ended");
    const stopped = await ssh(port, alice.key, "alice", "true");
    expect(stopped.code).toBe(255);
  });
});
