// The minimal web UI: a client of the REST API like any other.
import { hideWork, showWork } from "./work.js";

const $ = (sel) => document.querySelector(sel);
let token = sessionStorage.getItem("hangar.token");

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(data?.error?.message ?? `${res.status}`);
  return data;
}

/** The response itself (streams), with the token; throws the API's message on 4xx/5xx. */
api.raw = async (method, path, signal) => {
  const res = await fetch(path, { method, signal, headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error((await res.json().catch(() => null))?.error?.message ?? `${res.status}`);
  return res;
};

function formData(form) {
  return Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ""));
}

async function show() {
  const loggedIn = Boolean(token);
  $("#login-form").hidden = loggedIn;
  $("#logout").hidden = !loggedIn;
  if (!loggedIn) {
    $("#who").textContent = "";
    $("#users").hidden = $("#password").hidden = true;
    hideWork();
    return;
  }
  try {
    const me = await api("GET", "/api/me");
    $("#who").textContent = `${me.userId} (${me.role})`;
    $("#password").hidden = !me.mustChangePassword;
    $("#users").hidden = me.role !== "admin";
    if (me.role === "admin") await loadUsers();
    // A failing list must not end the session (the catch below logs out on a bad token).
    await showWork(api, me).catch((err) => console.error("loading the work views failed", err));
  } catch {
    token = null;
    sessionStorage.removeItem("hangar.token");
    await show();
  }
}

async function loadUsers() {
  const { items } = await api("GET", "/api/users?limit=500");
  const rows = items.map((u) => {
    const tr = document.createElement("tr");
    for (const v of [
      u.userId,
      u.role,
      u.active ? "yes" : "no",
      u.totpEnabled ? "on" : "off",
      u.createdAt.slice(0, 10),
    ]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  });
  $("#users tbody").replaceChildren(...rows);
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const res = await api("POST", "/api/auth/login", formData(e.target));
    token = res.token;
    sessionStorage.setItem("hangar.token", token);
    $("#login-error").textContent = "";
    await show();
  } catch (err) {
    $("#login-error").textContent = err.message;
  }
});

$("#password-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", "/api/me/password", formData(e.target));
    e.target.reset();
    $("#password-error").textContent = "";
    await show();
  } catch (err) {
    $("#password-error").textContent = err.message;
  }
});

$("#user-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api("POST", "/api/users", formData(e.target));
    e.target.reset();
    $("#user-error").textContent = "";
    await loadUsers();
  } catch (err) {
    $("#user-error").textContent = err.message;
  }
});

$("#logout").addEventListener("click", async () => {
  await api("POST", "/api/auth/logout").catch(() => {});
  token = null;
  sessionStorage.removeItem("hangar.token");
  await show();
});

show();
