// The open project's header: its name and directory, what its runs have cost so far,
// the button that opens its sessions (the picker, sessions.ts), and why it is stopped
// when its log cannot be written (a full disk).

import { h } from "./dom";
import type { ProjectInfo } from "./wire";

/** "$0.0123" below a dollar (runs often cost cents), "$4.56" from one on, "$0" for none. */
export function dollars(amount: number): string {
  if (amount === 0) return "$0";
  return `$${amount.toFixed(amount >= 1 ? 2 : 4)}`;
}

export function renderHeader(header: HTMLElement, project: ProjectInfo | undefined, openSessions: (project: ProjectInfo) => void): void {
  if (project === undefined) {
    header.replaceChildren(h("h1", {}, "No project open"));
    return;
  }
  const total = project.total_cost_usd ?? 0;
  const storeError = project.store_error ?? null;
  header.replaceChildren(
    h("h1", {}, project.name),
    h("span", { class: "path" }, project.agent === null ? project.path : `${project.agent}:${project.path}`),
    h("span", { class: "spend", title: "What this project's runs have cost so far" }, `${dollars(total)} spent`),
    h(
      "button",
      { type: "button", class: "secondary", "aria-haspopup": "dialog", onclick: () => openSessions(project) },
      "Sessions",
    ),
    ...(storeError === null ? [] : [h("p", { class: "store-error", role: "alert" }, `Stopped: ${storeError}`)]),
  );
}
