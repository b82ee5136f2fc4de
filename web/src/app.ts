// The application: projects on the left, the open project's approvals, conversation,
// queue and prompt box on the right.
//
// Every project is followed live (subscribed from its head) so that its status and
// approvals are known; the open one is subscribed from 0 for its whole history. A
// subscribe replaces the previous subscription of that project only when the server
// handles it, so what arrives for a conversation before its ack is left over and is
// ignored. Events up to the ack's head are history: the ack's pending confirmations are
// the truth about them, and they never notify.

import { ActivityLine, describeActivity } from "./activity";
import { AnsweredHere } from "./answered";
import { ApprovalCard, type Answer, type Pending } from "./approvals";
import { Connection, RequestFailed, type ConnectionState } from "./connection";
import { Conversation } from "./conversation";
import { clear, h } from "./dom";
import { renderHeader } from "./header";
import { Notifier } from "./notify";
import type { Ack, ConfirmationInfo, Connected, EventMessage, ProjectInfo, RunInfo, ServerMessage } from "./protocol";
import { SessionPicker } from "./sessions";

const FAILURES_BEFORE_TOKEN_CHECK = 3;

export interface Session {
  token: string;
  /** Forget the token and show the login screen (with why, if given). */
  logout(problem?: string): void;
  /** Whether the server still accepts the token (null: it could not be asked). */
  check(): Promise<boolean | null>;
}

/** Characters a WebSocket subprotocol may hold (an HTTP token). */
const PROTOCOL_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Where to connect, and the subprotocols to offer: the token travels as the
 *  subprotocol ``bearer.TOKEN`` rather than in the URL, which proxies log and devtools
 *  show; a token with other characters cannot, and goes in the query. */
export function socketAddress(base: string, token: string): [string, string[]] {
  if (PROTOCOL_CHARS.test(token)) return [base, ["switchboard", `bearer.${token}`]];
  return [`${base}?token=${encodeURIComponent(token)}`, []];
}

export class App {
  private readonly connection: Connection;
  private readonly projects = new Map<string, ProjectInfo>();
  private readonly pending = new Map<string, Pending>();
  private readonly conversations = new Map<string, Conversation>();
  private readonly answeredHere = new AnsweredHere();
  private readonly announced = new Set<string>();
  private readonly armed = new Set<string>();
  private readonly cards = new Map<string, ApprovalCard>();
  private readonly notifier = new Notifier();
  private selected: string | null = null;
  private state: ConnectionState = "connecting";
  private everConnected = false;
  private failures = 0;
  private toastTimer: number | null = null;

  private readonly status = h("span", { class: "connection", role: "status" });
  private readonly projectList = h("ul", { class: "projects" });
  private readonly header = h("div", { class: "project-header" });
  private readonly approvals = h("div", { class: "approvals", "aria-live": "polite" });
  private readonly scroller = h("div", { class: "scroller" });
  private readonly activity = new ActivityLine();
  private readonly queue = h("div", { class: "queue" });
  private readonly promptText = h("textarea", { rows: 3, placeholder: "Ask Claude… (Ctrl+Enter sends)", "aria-label": "Prompt" }) as HTMLTextAreaElement;
  private readonly sendButton = h("button", { type: "submit" }, "Send") as HTMLButtonElement;
  private readonly mode = h(
    "select",
    { "aria-label": "Permission mode" },
    h("option", { value: "" }, "project's mode"),
    h("option", { value: "default" }, "default"),
    h("option", { value: "acceptEdits" }, "acceptEdits"),
    h("option", { value: "plan" }, "plan"),
  ) as HTMLSelectElement;
  private readonly toast = h("div", { class: "toast", role: "alert", hidden: true });
  private readonly sessions = new SessionPicker({
    list: async (project) => (await this.connection.request("session.list", { project })).sessions ?? [],
    use: (project, session) => this.connection.request("session.use", { project, session }),
    fresh: (project) => this.connection.request("session.new", { project }),
  });

  constructor(
    mount: HTMLElement,
    private readonly session: Session,
  ) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const [url, protocols] = socketAddress(`${scheme}://${location.host}/ws`, session.token);
    this.connection = new Connection(url, protocols, {
      onOpen: (snapshot) => this.onOpen(snapshot),
      onMessage: (message) => this.onMessage(message),
      onState: (state, retry) => this.onState(state, retry),
    });
    mount.replaceChildren(this.layout());
    window.setInterval(() => {
      this.cards.forEach((card) => card.tick());
      this.renderActivity(); // a retry's countdown
    }, 1000);
  }

  start(): void {
    this.connection.start();
    this.render();
  }

  // -- layout -------------------------------------------------------------------------

  private layout(): HTMLElement {
    const path = h("input", { type: "text", placeholder: "/path/to/project", "aria-label": "Project path", required: true }) as HTMLInputElement;
    const addForm = h(
      "form",
      {
        class: "add-project",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.call("project.add", { path: path.value.trim() }).then((ack) => {
            if (ack?.project) {
              path.value = "";
              this.select(ack.project.id);
            }
          });
        },
      },
      path,
      h("button", { type: "submit" }, "Add"),
    );
    this.promptText.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.sendPrompt();
      }
    });
    return h(
      "div",
      { class: "app" },
      h(
        "header",
        { class: "topbar" },
        h("span", { class: "brand" }, "Switchboard"),
        this.status,
        h("button", { type: "button", class: "secondary", onclick: () => void this.notifier.enable() }, "Notify me"),
        h("button", { type: "button", class: "secondary", onclick: () => this.session.logout() }, "Log out"),
      ),
      h("nav", { class: "sidebar" }, h("h2", {}, "Projects"), this.projectList, addForm),
      h(
        "main",
        { class: "main" },
        this.header,
        this.approvals,
        this.scroller,
        this.activity.element,
        this.queue,
        h(
          "form",
          {
            class: "prompt-box",
            onsubmit: (event: Event) => {
              event.preventDefault();
              void this.sendPrompt();
            },
          },
          this.promptText,
          h("div", { class: "prompt-actions" }, this.mode, this.sendButton),
        ),
      ),
      this.toast,
      this.sessions.element,
    );
  }

  // -- connection ---------------------------------------------------------------------

  private onState(state: ConnectionState, retryMs: number | null): void {
    this.state = state;
    this.status.dataset.state = state;
    this.status.textContent =
      state === "online" ? "connected" : state === "connecting" ? "connecting…" : `offline, retrying in ${Math.ceil((retryMs ?? 0) / 1000)} s`;
    if (state === "online") this.failures = 0;
    this.renderActivity();
    if (state === "offline" && ++this.failures === FAILURES_BEFORE_TOKEN_CHECK) {
      // Failing again and again: maybe the server is back with another token.
      void this.session.check().then((valid) => valid === false && this.session.logout("The server no longer accepts this token."));
    }
    this.renderProjects();
  }

  private onOpen(snapshot: Connected): void {
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.projects.clear();
    for (const project of snapshot.projects) this.projects.set(project.id, project);
    this.pending.clear();
    for (const confirmation of snapshot.pending_confirmations) this.setPending(confirmation, reconnected);
    for (const id of [...this.conversations.keys()]) {
      if (!this.projects.has(id)) this.forget(id);
    }
    if (this.selected === null || !this.projects.has(this.selected)) this.selected = this.firstProject();
    for (const project of snapshot.projects) {
      const conversation = this.conversations.get(project.id);
      if (conversation !== undefined) void this.follow(project.id, conversation.lastSeq, conversation);
      else if (project.id !== this.selected) void this.follow(project.id, project.head, null);
    }
    this.render(); // opens the selected project's conversation if it has none yet
  }

  /** Subscribe to a project from ``since``: a conversation resumes, or follow it live. */
  private async follow(projectId: string, since: number, conversation: Conversation | null): Promise<void> {
    if (conversation !== null) {
      conversation.awaitingAck = true;
      conversation.startHistory();
    }
    let ack: Ack;
    try {
      ack = await this.connection.request("subscribe", { project: projectId, since });
    } catch (error) {
      if (conversation !== null && error instanceof RequestFailed && error.code === "since_out_of_range") {
        conversation.reset(); // the server's history is not what this page saw: start over
        return this.follow(projectId, 0, conversation);
      }
      if (conversation !== null && error instanceof RequestFailed && error.code === "history_trimmed" && error.firstSeq !== null) {
        conversation.restartAfterTrimmed(error.firstSeq); // no silent gap: say what is gone
        return this.follow(projectId, error.firstSeq - 1, conversation);
      }
      if (!(error instanceof RequestFailed && error.code === "offline")) this.showError(error);
      return;
    }
    if (conversation !== null) {
      conversation.awaitingAck = false;
      conversation.ackHead = ack.head ?? 0;
    }
    this.dropPending(projectId);
    for (const confirmation of ack.pending_confirmations ?? []) this.setPending(confirmation, true);
    this.renderApprovals();
    this.renderProjects();
  }

  private open(projectId: string): Conversation {
    const conversation = new Conversation(projectId, this.scroller, this.answeredHere);
    this.conversations.set(projectId, conversation);
    void this.follow(projectId, 0, conversation);
    return conversation;
  }

  private setPending(confirmation: ConfirmationInfo, announce: boolean): void {
    this.pending.set(confirmation.id, { info: confirmation, receivedAt: Date.now() });
    if (!this.announced.has(confirmation.id)) {
      this.announced.add(confirmation.id);
      if (announce) this.notifier.announce(confirmation, this.projects.get(confirmation.project)?.name ?? "");
    }
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case "event":
        this.onEvent(message);
        break;
      case "delta": {
        const conversation = this.conversations.get(message.project);
        if (conversation !== undefined && !conversation.awaitingAck && conversation.caughtUp) {
          conversation.delta(message.run, message.data);
          if (message.project === this.selected) {
            this.renderActivity();
            this.stickToBottom();
          }
        }
        break;
      }
      case "caught_up": {
        const conversation = this.conversations.get(message.project);
        if (conversation !== undefined && !conversation.awaitingAck && !conversation.caughtUp) {
          conversation.finishHistory();
          if (message.project === this.selected) {
            this.renderQueue();
            this.renderActivity();
            this.scroller.scrollTop = this.scroller.scrollHeight;
          }
        }
        break;
      }
      case "project_status": {
        const known = this.projects.has(message.project.id);
        this.projects.set(message.project.id, message.project);
        if (!known) void this.follow(message.project.id, message.project.head, null); // someone added it
        this.renderProjects();
        if (message.project.id === this.selected) {
          this.renderHeader();
          this.renderActivity(); // its background work
        }
        break;
      }
      case "project_removed":
        this.projects.delete(message.project);
        this.forget(message.project);
        if (this.selected === message.project) this.selected = this.firstProject();
        this.render();
        break;
      case "error":
        this.showError(new RequestFailed(message.code, message.message));
        break;
      default:
        break;
    }
  }

  private onEvent(event: EventMessage): void {
    const conversation = this.conversations.get(event.project);
    if (conversation !== undefined) {
      if (conversation.awaitingAck || !conversation.apply(event)) return;
    }
    const live = conversation === undefined || event.seq > conversation.ackHead;
    if (event.kind === "confirmation" && live) this.onConfirmationEvent(event);
    if (event.project === this.selected && conversation?.caughtUp) {
      if (event.kind === "run") this.renderQueue();
      this.renderActivity();
      this.stickToBottom();
    }
  }

  private onConfirmationEvent(event: EventMessage): void {
    const data = event.data;
    if (data.type === "confirmation_required") {
      this.setPending(data.confirmation as ConfirmationInfo, true);
    } else if (data.type === "confirmation_timer") {
      const known = this.pending.get(data.confirmation_id);
      if (known !== undefined) {
        const info = { ...known.info, paused: data.paused, remaining_seconds: data.remaining_seconds };
        this.pending.set(info.id, { info, receivedAt: Date.now() });
      }
    } else {
      this.pending.delete(data.confirmation_id);
    }
    this.renderApprovals();
    this.renderProjects();
  }

  // -- actions ------------------------------------------------------------------------

  private async call(type: string, fields: Record<string, unknown> = {}): Promise<Ack | null> {
    try {
      return await this.connection.request(type, fields);
    } catch (error) {
      this.showError(error);
      return null;
    }
  }

  private select(projectId: string): void {
    this.selected = projectId;
    this.render();
  }

  /** Stop following a project that is gone: its conversation and its approvals. */
  private forget(projectId: string): void {
    this.conversations.get(projectId)?.dispose();
    this.conversations.delete(projectId);
    this.dropPending(projectId);
  }

  private dropPending(projectId: string): void {
    for (const [id, pending] of this.pending) {
      if (pending.info.project === projectId) this.pending.delete(id);
    }
  }

  private sortedProjects(): ProjectInfo[] {
    return [...this.projects.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private firstProject(): string | null {
    const names = this.sortedProjects();
    return names[0]?.id ?? null;
  }

  private async sendPrompt(): Promise<void> {
    const text = this.promptText.value.trim();
    if (!text || this.selected === null || this.sendButton.disabled) return;
    const options = this.mode.value ? { permission_mode: this.mode.value } : {};
    this.sendButton.disabled = true;
    try {
      const ack = await this.call("prompt", { project: this.selected, text, options });
      if (ack !== null && this.promptText.value.trim() === text) this.promptText.value = "";
    } finally {
      this.sendButton.disabled = false;
    }
  }

  private answer(confirmation: ConfirmationInfo, answer: Answer): void {
    this.answeredHere.add(confirmation.id);
    void this.call("confirmation_response", { confirmation_id: confirmation.id, ...answer });
  }

  private showError(error: unknown): void {
    this.toast.textContent = error instanceof RequestFailed ? `${error.message} (${error.code})` : String(error);
    this.toast.hidden = false;
    if (this.toastTimer !== null) window.clearTimeout(this.toastTimer);
    this.toastTimer = window.setTimeout(() => (this.toast.hidden = true), 6000);
  }

  // -- rendering ----------------------------------------------------------------------

  private render(): void {
    this.renderProjects();
    this.renderHeader();
    this.renderApprovals();
    this.renderConversation();
    this.renderQueue();
    this.renderActivity();
  }

  private renderProjects(): void {
    clear(this.projectList);
    const projects = this.sortedProjects();
    const approvals = new Map<string, number>();
    for (const { info } of this.pending.values()) approvals.set(info.project, (approvals.get(info.project) ?? 0) + 1);
    for (const project of projects) this.projectList.appendChild(this.projectItem(project, approvals.get(project.id) ?? 0));
    if (projects.length === 0) this.projectList.appendChild(h("li", { class: "empty" }, "No projects yet: add a directory below."));
    document.title = this.pending.size > 0 ? `(${this.pending.size}) Switchboard` : "Switchboard";
  }

  private projectItem(project: ProjectInfo, approvals: number): HTMLElement {
    const status = this.state !== "online" ? "offline" : project.status;
    const armed = this.armed.has(project.id);
    const remove = h("button", { type: "button", class: "remove", title: "Remove project", "aria-label": `Remove ${project.name}` }, armed ? "Remove?" : "✕");
    remove.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.armed.delete(project.id)) void this.call("project.remove", { project: project.id });
      else {
        this.armed.add(project.id);
        this.renderProjects();
      }
    });
    return h(
      "li",
      {
        class: project.id === this.selected ? "project selected" : "project",
        "data-project": project.id,
        tabindex: 0,
        onclick: () => this.select(project.id),
      },
      h("span", { class: "name" }, project.name),
      h("span", { class: `badge ${status}` }, status),
      project.queued ? h("span", { class: "badge queued" }, `${project.queued} queued`) : null,
      approvals ? h("span", { class: "badge approvals" }, `${approvals} to approve`) : null,
      remove,
    );
  }

  private renderHeader(): void {
    const project = this.selected === null ? undefined : this.projects.get(this.selected);
    renderHeader(this.header, project, (open) => this.sessions.open(open));
  }

  /** The open project's approvals: cards are kept (and what was typed in them) and
   * only updated, added or removed as the pending confirmations change. */
  private renderApprovals(): void {
    const wanted = [...this.pending.values()]
      .filter((pending) => pending.info.project === this.selected)
      .sort((a, b) => a.info.created_at - b.info.created_at);
    const ids = new Set(wanted.map((pending) => pending.info.id));
    for (const [id, card] of this.cards) {
      if (!ids.has(id)) {
        card.element.remove();
        this.cards.delete(id);
      }
    }
    const actions = {
      answer: (confirmation: ConfirmationInfo, answer: Answer) => this.answer(confirmation, answer),
      pause: (confirmation: ConfirmationInfo, paused: boolean) =>
        void this.call(paused ? "pause_timer" : "resume_timer", { confirmation_id: confirmation.id }),
    };
    wanted.forEach((pending, index) => {
      let card = this.cards.get(pending.info.id);
      if (card === undefined) {
        card = new ApprovalCard(pending, actions);
        this.cards.set(pending.info.id, card);
      } else {
        card.update(pending);
      }
      // Moved only when out of place: moving a card would take the focus from its inputs.
      const there = this.approvals.children[index] ?? null;
      if (there !== card.element) this.approvals.insertBefore(card.element, there);
    });
    this.renderActivity();
  }

  private renderConversation(): void {
    if (this.selected === null) {
      this.scroller.replaceChildren(h("p", { class: "empty" }, "Add a project to start."));
      return;
    }
    const conversation = this.conversations.get(this.selected) ?? this.open(this.selected);
    if (this.scroller.firstChild !== conversation.element) {
      this.scroller.replaceChildren(conversation.element);
      this.scroller.scrollTop = this.scroller.scrollHeight;
    }
  }

  private renderQueue(): void {
    clear(this.queue);
    const conversation = this.selected === null ? undefined : this.conversations.get(this.selected);
    if (conversation === undefined) return;
    const runs = [...conversation.runs.values()];
    const running = runs.filter((run) => run.state === "running");
    const queued = runs.filter((run) => run.state === "queued").sort((a, b) => a.created_at - b.created_at);
    if (running.length + queued.length === 0) return;
    const entry = (run: RunInfo, label: string) =>
      h(
        "li",
        { class: `queued-run ${run.state}`, "data-run": run.id },
        h("span", { class: "label" }, label),
        h("span", { class: "text" }, run.origin === "claude" ? "Claude carries on by itself" : run.prompt),
        h("button", { type: "button", class: "cancel", onclick: () => void this.call("cancel", { project: run.project, run: run.id }) }, run.state === "running" ? "Stop" : "Cancel"),
      );
    this.queue.appendChild(
      h("ul", {}, ...running.map((run) => entry(run, "running")), ...queued.map((run, index) => entry(run, `#${index + 1} queued`))),
    );
  }

  /** The open project's activity line (none while its history loads). */
  private renderActivity(): void {
    const conversation = this.selected === null ? undefined : this.conversations.get(this.selected);
    if (conversation === undefined || !conversation.caughtUp) {
      this.activity.show(null);
      return;
    }
    const pending = [...this.pending.values()].map((p) => p.info).filter((info) => info.project === this.selected);
    const backgroundTasks = this.projects.get(conversation.projectId)?.background_tasks ?? 0;
    const runs = conversation.runs.values();
    this.activity.show(describeActivity({ online: this.state === "online", runs, pending, tracker: conversation.activity, backgroundTasks }));
  }

  private stickToBottom(): void {
    const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 200;
    if (nearBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
