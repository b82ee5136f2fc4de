// The open project's header: its name and directory, what its runs have cost so far
// (and, when it has budgets, today's spend against them), the button that opens its sessions (the picker, sessions.ts), and why it is stopped
// when its log cannot be written (a full disk).

import { h } from "./dom";
import type { ProjectInfo } from "./wire";

/** "$0.0123" below a dollar (runs often cost cents), "$4.56" from one on, "$0" for none. */
export function dollars(amount: number): string {
  if (amount === 0) return "$0";
  return `$${amount.toFixed(amount >= 1 ? 2 : 4)}`;
}

/** "today $0.82 of $1.50 · run ≤ $0.50": the project's budgets, or null if it has none. */
export function budgetText(project: ProjectInfo): string | null {
  const budget = project.budget;
  if (budget === undefined) return null;
  const daily = budget.daily_usd ?? null;
  const run = budget.run_usd ?? null;
  const parts: string[] = [];
  if (daily !== null) parts.push(`today ${dollars(budget.spent_today_usd ?? 0)} of ${dollars(daily)}`);
  if (run !== null) parts.push(`run ≤ ${dollars(run)}`);
  return parts.length === 0 ? null : parts.join(" · ");
}

function budgetSpan(project: ProjectInfo): HTMLElement[] {
  const text = budgetText(project);
  if (text === null) return [];
  const daily = project.budget?.daily_usd ?? null;
  const spent = daily !== null && (project.budget?.spent_today_usd ?? 0) >= daily;
  const title = spent
    ? "Today's budget is spent: prompts are refused until the next UTC day or a higher budget"
    : "Budgets: what this project's runs may cost per UTC day and per run";
  return [h("span", { class: "budget", title, "data-spent": String(spent) }, text)];
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
    ...budgetSpan(project),
    h(
      "button",
      { type: "button", class: "secondary", "aria-haspopup": "dialog", onclick: () => openSessions(project) },
      "Sessions",
    ),
    ...(storeError === null ? [] : [h("p", { class: "store-error", role: "alert" }, `Stopped: ${storeError}`)]),
  );
}
