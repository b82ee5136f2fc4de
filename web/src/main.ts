// Start: take the token from the URL fragment (#token=…, never sent to the server in
// the URL), remember it in this browser, and check it before opening the app; without
// a valid token, a login screen.

import "./style.css";
import { App } from "./app";
import { h } from "./dom";

const STORAGE_KEY = "switchboard.token";
const PROBLEM_KEY = "switchboard.problem";

function tokenFromFragment(): string | null {
  const match = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  if (match === null) return null;
  history.replaceState(null, "", location.pathname + location.search); // out of the address bar
  return decodeURIComponent(match[1]);
}

/** Whether the server accepts the token; null when it could not be asked. */
async function accepted(token: string): Promise<boolean | null> {
  try {
    const reply = await fetch("/api/token/check", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
    });
    if (!reply.ok) return null;
    return ((await reply.json()) as { valid?: boolean }).valid === true;
  } catch {
    return null;
  }
}

function login(mount: HTMLElement, problem: string | null, token = ""): void {
  const input = h("input", { type: "password", name: "token", placeholder: "token", "aria-label": "Token", autocomplete: "current-password", required: true }) as HTMLInputElement;
  input.value = token;
  mount.replaceChildren(
    h(
      "form",
      {
        class: "login",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void boot(mount, input.value.trim());
        },
      },
      h("h1", {}, "Switchboard"),
      h("p", {}, "Paste the server's token. It is printed when the server starts, and kept in its data directory (token)."),
      problem ? h("p", { class: "problem", role: "alert" }, problem) : null,
      input,
      h("button", { type: "submit" }, "Open"),
    ),
  );
  input.focus();
}

async function boot(mount: HTMLElement, token: string | null): Promise<void> {
  if (!token) {
    login(mount, null);
    return;
  }
  const valid = await accepted(token);
  if (valid === null) {
    login(mount, "The server could not be reached to check the token; try again.", token);
    return;
  }
  if (!valid) {
    localStorage.removeItem(STORAGE_KEY);
    login(mount, "That token was refused.");
    return;
  }
  localStorage.setItem(STORAGE_KEY, token);
  const session = {
    token,
    logout(problem?: string) {
      // A reload ends every connection and timer of the app; the reason survives it.
      localStorage.removeItem(STORAGE_KEY);
      if (problem) sessionStorage.setItem(PROBLEM_KEY, problem);
      location.reload();
    },
    check: () => accepted(token),
  };
  new App(mount, session).start();
}

const mount = document.getElementById("app");
if (mount !== null) {
  const problem = sessionStorage.getItem(PROBLEM_KEY);
  sessionStorage.removeItem(PROBLEM_KEY);
  const token = tokenFromFragment() ?? localStorage.getItem(STORAGE_KEY);
  if (problem !== null && token === null) login(mount, problem);
  else void boot(mount, token);
}
