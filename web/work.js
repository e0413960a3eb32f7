// Nodes (admins), workspaces → trainings → jobs → a job's live log, and running a job.
// Everything goes through the REST API with the caller's token, like any other client.
const $ = (sel) => document.querySelector(sel);
const state = { api: null, ws: null, tr: null, follow: null };

function row(cells, onPick) {
  const tr = document.createElement("tr");
  for (const v of cells) {
    const td = document.createElement("td");
    if (v instanceof Node) td.append(v);
    else td.textContent = v ?? "";
    tr.append(td);
  }
  if (onPick) {
    tr.className = "pick";
    tr.addEventListener("click", () => {
      for (const other of tr.parentElement.children) other.classList.remove("selected");
      tr.classList.add("selected");
      onPick();
    });
  }
  return tr;
}

export async function showWork(api, me) {
  state.api = api;
  $("#nodes").hidden = me.role !== "admin";
  $("#workspaces").hidden = false;
  if (me.role === "admin") await loadNodes();
  await loadWorkspaces();
}

export function hideWork() {
  stopFollow();
  state.ws = state.tr = null;
  for (const id of ["#nodes", "#workspaces", "#trainings", "#jobs", "#log"]) $(id).hidden = true;
}

async function loadNodes() {
  const { items } = await state.api("GET", "/api/nodes?limit=500");
  $("#nodes tbody").replaceChildren(
    ...items.map((n) =>
      row([n.name, n.ip, n.statusMessage ? `${n.status}: ${n.statusMessage}` : n.status, n.gpusInUse, n.gpuTotal]),
    ),
  );
}

async function loadWorkspaces() {
  const { items } = await state.api("GET", "/api/workspaces?limit=500");
  $("#workspaces tbody").replaceChildren(
    ...items.map((w) =>
      row([w.name, w.status, w.trainingGpus, `${w.startsAt.slice(0, 10)} – ${w.endsAt.slice(0, 10)}`], () =>
        pickWorkspace(w.name),
      ),
    ),
  );
}

async function pickWorkspace(ws) {
  state.ws = ws;
  state.tr = null;
  stopFollow();
  $("#jobs").hidden = $("#log").hidden = true;
  $("#trainings .ws-name").textContent = ws;
  const { items } = await state.api("GET", `/api/workspaces/${ws}/trainings?limit=500`);
  $("#trainings tbody").replaceChildren(
    ...items.map((t) => row([t.name, t.type, t.gpus, t.access], () => pickTraining(t.name))),
  );
  $("#trainings").hidden = false;
}

async function pickTraining(tr) {
  state.tr = tr;
  stopFollow();
  $("#log").hidden = true;
  $("#jobs .tr-name").textContent = `${state.ws} / ${tr}`;
  $("#jobs").hidden = false;
  await loadJobs();
}

async function loadJobs() {
  const { items } = await state.api("GET", `/api/workspaces/${state.ws}/trainings/${state.tr}/jobs?limit=500`);
  $("#jobs tbody").replaceChildren(
    ...items.map((j) => {
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.textContent = "Cancel";
      cancel.hidden = !["pending", "starting", "running"].includes(j.status);
      cancel.addEventListener("click", async (e) => {
        e.stopPropagation();
        await state.api("POST", `/api/jobs/${j.id}/cancel`).catch(() => {});
        await loadJobs();
      });
      return row([j.name, j.status, j.statusReason, j.createdAt.replace("T", " ").slice(0, 19), cancel], () =>
        followLog(j),
      );
    }),
  );
}

function stopFollow() {
  state.follow?.abort();
  state.follow = null;
}

// The log as it arrives: the API's SSE stream (`?follow=1`), read with fetch so the token goes
// in the Authorization header (EventSource cannot send one).
async function followLog(job) {
  stopFollow();
  const abort = new AbortController();
  state.follow = abort;
  const pre = $("#log pre");
  pre.textContent = "";
  $("#log .job-name").textContent = job.name;
  $("#log .job-status").textContent = job.status;
  $("#log").hidden = false;
  try {
    const res = await state.api.raw("GET", `/api/jobs/${job.id}/log?follow=1`, abort.signal);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut = buffer.indexOf("\n\n");
      while (cut >= 0) {
        const message = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(message)?.[1];
        const data = message
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        if (event === "line") pre.append(`${data}\n`);
        if (event === "end") {
          $("#log .job-status").textContent = JSON.parse(data).status;
          await loadJobs();
        }
        cut = buffer.indexOf("\n\n");
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") pre.append(`\n[web] log stream failed: ${err.message}\n`);
  }
}

$("#job-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v !== ""));
  try {
    const { items } = await state.api("POST", `/api/workspaces/${state.ws}/trainings/${state.tr}/jobs`, body);
    e.target.reset();
    $("#job-error").textContent = "";
    await loadJobs();
    if (items[0]) await followLog(items[0]);
  } catch (err) {
    $("#job-error").textContent = err.message;
  }
});
