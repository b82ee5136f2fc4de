// The session picker of the open project, a dialog opened from its header: the Claude
// sessions the CLI stored for the project's directory (a terminal's too), newest first,
// the current one marked. Choosing one makes it the project's (``session.use``: its
// history is imported into the conversation, and the next prompt resumes it); *New
// session* makes the next prompt start afresh (``session.new``). What the server
// refuses is said in the dialog, in words.

import { RequestFailed } from "./connection";
import { h } from "./dom";
import type { ProjectInfo, StoredSessionInfo } from "./wire";

export interface SessionRequests {
  list(project: string): Promise<StoredSessionInfo[]>;
  use(project: string, session: string): Promise<unknown>;
  fresh(project: string): Promise<unknown>;
}

/** The server's refusals, in words (others are shown as the server words them). */
const PROBLEMS: Record<string, string> = {
  busy: "A run is under way in this project: wait for it to finish, or stop it, then switch.",
  unknown_session: "The CLI no longer has that session. The list is up to date again.",
  offline: "Not connected to the server: try again once the page is back online.",
};

const DAY_AND_TIME = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

/** "5 minutes ago", "yesterday", "just now" (``at`` in seconds since the epoch). */
export function ago(at: number, now: number = Date.now() / 1000): string {
  const seconds = at - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return RELATIVE.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

/** "Dec 5, 11:35 AM" this year, "Dec 5, 2024" before. */
export function when(at: number, now: Date = new Date()): string {
  const date = new Date(at * 1000);
  return (date.getFullYear() === now.getFullYear() ? DAY_AND_TIME : DATE).format(date);
}

function problemText(error: unknown): string {
  if (error instanceof RequestFailed) return PROBLEMS[error.code] ?? `${error.message} (${error.code})`;
  return String(error);
}

export class SessionPicker {
  readonly element: HTMLDialogElement;
  private readonly title = h("h2", { id: "session-picker-title" }, "Sessions");
  private readonly problem = h("p", { class: "picker-problem", role: "alert", hidden: true });
  private readonly hint = h("p", { class: "hint", hidden: true }, "The next prompt starts a new session.");
  private readonly list = h("ul", { class: "stored-sessions", "aria-label": "Stored sessions" });
  private readonly newButton = h("button", { type: "button", class: "new-session" }, "New session") as HTMLButtonElement;
  private project: ProjectInfo | null = null;
  /** A request of this dialog is under way: its buttons wait. */
  private working = false;

  constructor(private readonly requests: SessionRequests) {
    this.newButton.addEventListener("click", () => void this.startNew());
    this.element = h(
      "dialog",
      { class: "session-picker", "aria-labelledby": "session-picker-title" },
      h(
        "div",
        { class: "picker-body" },
        h(
          "header",
          {},
          this.title,
          h("button", { type: "button", class: "secondary close", "aria-label": "Close", onclick: () => this.close() }, "✕"),
        ),
        h("p", { class: "hint picker-about" }, "Choose a session to carry on with it here: its conversation so far is shown, and the next prompt resumes it."),
        h("div", { class: "picker-actions" }, this.newButton, this.hint),
        this.problem,
        this.list,
      ),
    ) as HTMLDialogElement;
    // A click outside the dialog's box (on its backdrop) closes it.
    this.element.addEventListener("click", (event) => event.target === this.element && this.close());
  }

  get isOpen(): boolean {
    return this.element.open;
  }

  open(project: ProjectInfo): void {
    this.project = project;
    this.title.textContent = `Sessions of ${project.name}`;
    this.hint.hidden = project.session_id !== null;
    this.say(null);
    if (!this.element.open) this.element.showModal();
    void this.load();
  }

  close(): void {
    if (this.element.open) this.element.close();
  }

  private async load(): Promise<void> {
    const project = this.project;
    if (project === null) return;
    this.list.replaceChildren(h("li", { class: "empty" }, "Loading the sessions…"));
    let sessions: StoredSessionInfo[];
    try {
      sessions = await this.requests.list(project.id);
    } catch (error) {
      this.list.replaceChildren();
      this.say(error);
      return;
    }
    if (this.project !== project) return; // opened again for another project meanwhile
    this.list.replaceChildren(...sessions.map((session) => this.item(session)));
    if (sessions.length === 0) {
      this.list.appendChild(h("li", { class: "empty" }, "The CLI has no stored sessions for this directory yet."));
    }
  }

  private item(session: StoredSessionInfo): HTMLElement {
    const active = h("span", {}, `last active ${ago(session.updated_at)}`);
    const started = session.started_at === null ? null : h("span", {}, `started ${when(session.started_at)}`);
    const button = h(
      "button",
      {
        type: "button",
        class: "secondary use-session",
        disabled: session.current,
        "aria-current": session.current ? "true" : null,
        title: session.id,
        onclick: () => void this.use(session),
      },
      h("span", { class: "first-prompt" }, session.first_prompt ?? "(no prompt)"),
      h("span", { class: "when" }, active, started ? " · " : null, started),
      session.current ? h("span", { class: "badge current" }, "current") : null,
    );
    return h("li", { class: session.current ? "stored-session current" : "stored-session", "data-session": session.id }, button);
  }

  private async use(session: StoredSessionInfo): Promise<void> {
    const project = this.project;
    if (project === null || this.working) return;
    const done = await this.attempt(() => this.requests.use(project.id, session.id));
    if (done) this.close();
  }

  private async startNew(): Promise<void> {
    const project = this.project;
    if (project === null || this.working) return;
    const done = await this.attempt(() => this.requests.fresh(project.id));
    if (done) this.close();
  }

  /** Run a request with the buttons held; say what went wrong, if anything. */
  private async attempt(request: () => Promise<unknown>): Promise<boolean> {
    this.working = true;
    this.element.setAttribute("aria-busy", "true");
    this.say(null);
    try {
      await request();
      return true;
    } catch (error) {
      this.say(error);
      if (error instanceof RequestFailed && error.code === "unknown_session") await this.load();
      return false;
    } finally {
      this.working = false;
      this.element.removeAttribute("aria-busy");
    }
  }

  private say(error: unknown): void {
    const problem = error === null ? "" : problemText(error);
    if (problem === "") {
      this.problem.hidden = true;
      this.problem.textContent = "";
      return;
    }
    this.problem.textContent = problem;
    this.problem.hidden = false;
  }
}
