// The application: projects on the left, the open project's approvals, conversation,
// queue and prompt box on the right; beside the conversation, what Claude reports
// through the back-channel (its task list) and the project's diagnostics.
//
// Every project is followed live (subscribed from its head) so that its status and
// approvals are known; the open one is subscribed from 0 for its whole history. A
// subscribe replaces the previous subscription of that project only when the server
// handles it, so what arrives for a conversation before its ack is left over and is
// ignored. Events up to the ack's head are history: the ack's pending confirmations are
// the truth about them, and they never notify.
//
// What the page shows is kept in one store (state.ts): handlers change it with
// ``store.update``, and the views registered in the constructor redraw what depends on
// what changed.

import { ActivityLine, describeActivity } from "./activity";
import { renderAgents } from "./agents";
import { AnsweredHere } from "./answered";
import { ApprovalCard, type Answer } from "./approvals";
import { BackChannel } from "./backchannel";
import { Connection, RequestFailed, type ConnectionState } from "./connection";
import { Conversation } from "./conversation";
import { renderDiagnostics } from "./diagnostics";
import { clear, h } from "./dom";
import { renderHeader } from "./header";
import { Notifier } from "./notify";
import { PresenceReporter } from "./presence";
import { PushOptIn } from "./push";
import { SessionPicker } from "./sessions";
import { firstProject, openConversation, pendingOf, sortedProjects, Store, type Draft } from "./state";
import { renderTasks } from "./tasks";
import {
  permissionMode,
  type Ack,
  type ConfirmationEvent,
  type ConfirmationInfo,
  type Connected,
  type EventMessage,
  type NotificationEvent,
  type ProjectInfo,
  type RequestFields,
  type RequestType,
  type RunInfo,
  type ServerMessage,
} from "./wire";

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
  private readonly store = new Store((projectId) => this.open(projectId));
  private readonly answeredHere = new AnsweredHere();
  private readonly announced = new Set<string>();
  private readonly cards = new Map<string, ApprovalCard>();
  private readonly notifier = new Notifier();
  /** Web Push for this browser, and what this page reports it shows (no push then). */
  private readonly push = new PushOptIn(
    (type, fields) => this.connection.request(type, fields),
    (message) => this.showError(message),
    (projectId) => this.store.state.projects.has(projectId) && this.select(projectId),
  );
  private readonly presence = new PresenceReporter(
    (type, fields) => this.connection.request(type, fields),
    () => {
      const { selected, projects } = this.store.state;
      return [...(selected === null ? [] : [selected]), ...[...projects.keys()].filter((id) => id !== selected)];
    },
  );
  private readonly backChannel = new BackChannel();
  private everConnected = false;
  private failures = 0;
  private toastTimer: number | null = null;

  private readonly status = h("span", { class: "connection", role: "status" });
  private readonly projectList = h("ul", { class: "projects" });
  private readonly agentSection = h("section", { class: "agent-list", hidden: true });
  private readonly header = h("div", { class: "project-header" });
  private readonly approvals = h("div", { class: "approvals", "aria-live": "polite" });
  private readonly scroller = h("div", { class: "scroller" });
  private readonly taskSection = h("section", { class: "tasks", "aria-label": "Tasks", hidden: true });
  private readonly diagnosticsSection = h("section", { class: "diagnostics", "aria-label": "Diagnostics", hidden: true });
  private readonly side = h("aside", { class: "project-side", hidden: true }, this.taskSection, this.diagnosticsSection);
  private readonly activity = new ActivityLine();
  private readonly queue = h("div", { class: "queue" });
  private readonly promptText = h("textarea", { rows: 3, placeholder: "Ask Claude… (Ctrl+Enter sends)", "aria-label": "Prompt" }) as HTMLTextAreaElement;
  private readonly sendButton = h("button", { type: "submit" }, "Send") as HTMLButtonElement;
  /** The permission modes the server accepts (its ``connected`` snapshot says which). */
  private readonly mode = h("select", { "aria-label": "Permission mode" }, h("option", { value: "" }, "project's mode")) as HTMLSelectElement;
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
    // The views, and the parts of the state each one shows.
    const store = this.store;
    store.view(["connection"], () => this.renderStatus());
    store.view(["connection", "projects", "pending", "armed", "selected"], () => this.renderProjects());
    store.view(["selected", "open.project"], () => this.renderHeader());
    store.view(["selected", "pending"], () => this.renderApprovals());
    store.view(["clock"], () => this.cards.forEach((card) => card.tick()));
    store.view(["selected"], () => this.renderConversation());
    store.view(["selected", "open.tasks", "open.diagnostics"], () => this.renderSide());
    store.view(["selected", "open.project", "open.runs", "open.loaded"], () => this.renderQueue());
    store.view(
      ["connection", "pending", "selected", "open.project", "open.runs", "open.events", "open.loaded", "clock"], // "clock": a retry's countdown
      () => this.renderActivity(),
    );
    store.view(["modes"], () => this.renderModes());
    store.view(["projects", "selected"], () => this.presence.projectsChanged());
    store.view(["connection", "agents", "clock"], () =>
      renderAgents(this.agentSection, [...this.store.state.agents.values()], this.store.state.connection === "online"),
    );
    // Last, once the views above have changed the page's layout: the scroll position.
    store.view(["open.events"], () => this.stickToBottom());
    store.view(["open.loaded"], () => this.scrollToEndOnceLoaded());
    window.setInterval(() => store.update((draft) => draft.tick()), 1000);
  }

  start(): void {
    this.connection.start();
    this.store.update((draft) => draft.select(draft.current.selected)); // none yet: the empty page
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
        this.push.button,
        h("button", { type: "button", class: "secondary", onclick: () => void this.notifier.enable() }, "Notify me"),
        h("button", { type: "button", class: "secondary", onclick: () => this.session.logout() }, "Log out"),
      ),
      h("nav", { class: "sidebar" }, h("h2", {}, "Projects"), this.projectList, addForm, this.agentSection),
      h(
        "main",
        { class: "main" },
        this.header,
        this.approvals,
        h("div", { class: "work" }, this.scroller, this.side),
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
    this.store.update((draft) => draft.setConnection(state, retryMs));
    if (state === "online") this.failures = 0;
    if (state !== "online") this.presence.disconnected();
    if (state === "offline" && ++this.failures === FAILURES_BEFORE_TOKEN_CHECK) {
      // Failing again and again: maybe the server is back with another token.
      void this.session.check().then((valid) => valid === false && this.session.logout("The server no longer accepts this token."));
    }
  }

  /** A viewer's token may watch but not prompt: say so where the prompt goes. */
  private showRole(role: string | null): void {
    const viewer = role === "viewer";
    this.promptText.disabled = viewer;
    this.promptText.placeholder = viewer ? "This token is a viewer's: it can watch, not prompt." : "Ask Claude… (Ctrl+Enter sends)";
  }

  private onOpen(snapshot: Connected): void {
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.showRole(snapshot.role ?? null);
    this.store.update((draft) => {
      const state = draft.current;
      draft.setProjects(snapshot.projects);
      draft.setPermissionModes(snapshot.permission_modes);
      draft.setAgents(snapshot.agents);
      this.backChannel.snapshot(draft, snapshot);
      draft.clearPending();
      for (const confirmation of snapshot.pending_confirmations) this.setPending(draft, confirmation, reconnected);
      for (const id of [...state.conversations.keys()]) {
        if (!state.projects.has(id)) draft.forget(id);
      }
      const selected = state.selected !== null && state.projects.has(state.selected) ? state.selected : firstProject(state);
      for (const project of snapshot.projects) {
        const conversation = state.conversations.get(project.id);
        if (conversation !== undefined) void this.follow(project.id, conversation.lastSeq, conversation);
        else if (project.id !== selected) void this.follow(project.id, project.head, null);
      }
      if (selected !== state.selected) draft.select(selected); // opens its conversation
    });
    const wanted = this.push.takeWanted(); // a click on a push alert opened this page
    if (wanted !== null && this.store.state.projects.has(wanted)) this.select(wanted);
    void this.push.connected(snapshot.push_public_key ?? null, snapshot.role !== "viewer");
    this.presence.connected(snapshot.limits.push_idle_seconds ?? 60);
  }

  /** Subscribe to a project from ``since``: a conversation resumes, or follow it live. */
  private async follow(projectId: string, since: number, conversation: Conversation | null): Promise<void> {
    if (conversation !== null) {
      conversation.awaitingAck = true;
      this.store.update((draft) => {
        conversation.startHistory();
        draft.conversationChanged(projectId, "loaded");
      });
    }
    let ack: Ack;
    try {
      // batch: the replay comes many events to a frame (a browser pays per message)
      ack = await this.connection.request("subscribe", { project: projectId, since, batch: true });
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
    this.store.update((draft) => {
      draft.dropPending(projectId);
      for (const confirmation of ack.pending_confirmations ?? []) this.setPending(draft, confirmation, true);
      this.backChannel.subscribed(draft, projectId, ack);
    });
  }

  /** A project's conversation, begun (the store asks, when a project is opened first). */
  private open(projectId: string): Conversation {
    const conversation = new Conversation(projectId, this.scroller, this.answeredHere);
    void this.follow(projectId, 0, conversation);
    return conversation;
  }

  private setPending(draft: Draft, confirmation: ConfirmationInfo, announce: boolean): void {
    draft.setPending(confirmation);
    if (!this.announced.has(confirmation.id)) {
      this.announced.add(confirmation.id);
      if (announce) this.notifier.announce(confirmation, draft.current.projects.get(confirmation.project)?.name ?? "");
    }
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case "event":
        this.onEvent(message);
        break;
      case "events":
        this.store.update(() => {
          for (const event of message.events) this.onEvent(event); // one render for all
        });
        break;
      case "delta": {
        const conversation = this.store.state.conversations.get(message.project);
        if (conversation !== undefined && !conversation.awaitingAck && conversation.caughtUp) {
          this.store.update((draft) => {
            conversation.delta(message.run, message.data);
            draft.conversationChanged(message.project, "events");
          });
        }
        break;
      }
      case "caught_up": {
        const conversation = this.store.state.conversations.get(message.project);
        if (conversation !== undefined && !conversation.awaitingAck && !conversation.caughtUp) {
          this.store.update((draft) => {
            conversation.finishHistory();
            draft.conversationChanged(message.project, "loaded");
          });
        }
        break;
      }
      case "project_status": {
        const project = message.project;
        const known = this.store.state.projects.has(project.id);
        this.store.update((draft) => draft.setProject(project));
        if (!known) void this.follow(project.id, project.head, null); // someone added it
        break;
      }
      case "project_removed":
        this.backChannel.forget(message.project);
        this.store.update((draft) => {
          draft.removeProject(message.project);
          if (draft.current.selected === message.project) draft.select(firstProject(draft.current));
        });
        break;
      case "activity": {
        const conversation = this.store.state.conversations.get(message.project);
        if (conversation !== undefined && !conversation.awaitingAck && conversation.caughtUp) {
          this.store.update((draft) => {
            conversation.activity.onActivity(message);
            draft.conversationChanged(message.project, "events");
          });
        }
        break;
      }
      case "agent_status":
        this.store.update((draft) => draft.setAgent(message.agent, message.removed));
        break;
      case "error":
        this.showError(new RequestFailed(message.code, message.message));
        break;
      default:
        break;
    }
  }

  private onEvent(event: EventMessage): void {
    const conversation = this.store.state.conversations.get(event.project);
    if (conversation !== undefined) {
      if (conversation.awaitingAck || !conversation.apply(event)) return;
    }
    const live = conversation === undefined || event.seq > conversation.ackHead;
    this.store.update((draft) => {
      if (event.kind === "confirmation" && live) this.onConfirmationEvent(draft, event.data as ConfirmationEvent);
      if (event.kind === "notification" && live) this.tell(event);
      this.backChannel.event(draft, event);
      if (conversation?.caughtUp) {
        if (event.kind === "run") draft.conversationChanged(event.project, "runs", "events");
        else draft.conversationChanged(event.project, "events");
      }
    });
  }

  private onConfirmationEvent(draft: Draft, data: ConfirmationEvent): void {
    if (data.type === "confirmation_required") {
      this.setPending(draft, data.confirmation, true);
    } else if (data.type === "confirmation_timer") {
      const known = draft.current.pending.get(data.confirmation_id);
      if (known !== undefined) draft.setPending({ ...known.info, paused: data.paused, remaining_seconds: data.remaining_seconds });
    } else {
      draft.deletePending(data.confirmation_id);
    }
  }

  /** Claude's notification, live: a browser notification (when allowed), unless the
   *  open conversation shows it in a visible tab. */
  private tell(event: EventMessage): void {
    const state = this.store.state;
    const shownHere = event.project === state.selected && openConversation(state)?.caughtUp === true;
    const name = state.projects.get(event.project)?.name ?? "";
    this.notifier.tell(event.data as NotificationEvent, name, `${event.project}:${event.seq}`, shownHere);
  }

  // -- actions ------------------------------------------------------------------------

  private async call<T extends RequestType>(type: T, fields: RequestFields<T>): Promise<Ack | null> {
    try {
      return await this.connection.request(type, fields);
    } catch (error) {
      this.showError(error);
      return null;
    }
  }

  private select(projectId: string): void {
    this.store.update((draft) => draft.select(projectId));
  }

  private async sendPrompt(): Promise<void> {
    const text = this.promptText.value.trim();
    const project = this.store.state.selected;
    if (!text || project === null || this.sendButton.disabled) return;
    const mode = permissionMode(this.mode.value, this.store.state.permissionModes);
    const options = mode === null ? {} : { permission_mode: mode };
    this.sendButton.disabled = true;
    try {
      const ack = await this.call("prompt", { project, text, options });
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

  // -- views: each shows part of the store's state, and changes nothing in it ---------

  private renderStatus(): void {
    const { connection, retryMs } = this.store.state;
    this.status.dataset.state = connection;
    this.status.textContent =
      connection === "online" ? "connected" : connection === "connecting" ? "connecting…" : `offline, retrying in ${Math.ceil((retryMs ?? 0) / 1000)} s`;
  }

  private renderProjects(): void {
    const state = this.store.state;
    clear(this.projectList);
    const projects = sortedProjects(state);
    const approvals = new Map<string, number>();
    for (const { info } of state.pending.values()) approvals.set(info.project, (approvals.get(info.project) ?? 0) + 1);
    for (const project of projects) this.projectList.appendChild(this.projectItem(project, approvals.get(project.id) ?? 0));
    if (projects.length === 0) this.projectList.appendChild(h("li", { class: "empty" }, "No projects yet: add a directory below."));
    document.title = state.pending.size > 0 ? `(${state.pending.size}) Switchboard` : "Switchboard";
  }

  private projectItem(project: ProjectInfo, approvals: number): HTMLElement {
    const state = this.store.state;
    const status = state.connection !== "online" ? "offline" : project.status;
    const armed = state.armed.has(project.id);
    const remove = h("button", { type: "button", class: "remove", title: "Remove project", "aria-label": `Remove ${project.name}` }, armed ? "Remove?" : "✕");
    remove.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.store.state.armed.has(project.id)) {
        this.store.update((draft) => draft.disarm(project.id));
        void this.call("project.remove", { project: project.id });
      } else {
        this.store.update((draft) => draft.arm(project.id));
      }
    });
    return h(
      "li",
      {
        class: project.id === state.selected ? "project selected" : "project",
        "data-project": project.id,
        tabindex: 0,
        onclick: () => this.select(project.id),
      },
      h("span", { class: "name" }, project.name),
      h("span", { class: `badge ${status}` }, status),
      project.queued ? h("span", { class: "badge queued" }, `${project.queued} queued`) : null,
      approvals ? h("span", { class: "badge approvals" }, `${approvals} to approve`) : null,
      project.agent === null
        ? null
        : h(
            "span",
            { class: `badge agent ${project.agent_online ? "online" : "offline"}`, title: `Runs on the agent ${project.agent}` },
            project.agent_online ? `on ${project.agent}` : `${project.agent} offline`,
          ),
      remove,
    );
  }

  private renderHeader(): void {
    const { selected, projects } = this.store.state;
    const project = selected === null ? undefined : projects.get(selected);
    renderHeader(this.header, project, (open) => this.sessions.open(open));
  }

  /** The open project's approvals: cards are kept (and what was typed in them) and
   * only updated, added or removed as the pending confirmations change. */
  private renderApprovals(): void {
    const state = this.store.state;
    const wanted = pendingOf(state, state.selected).sort((a, b) => a.info.created_at - b.info.created_at);
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
  }

  private renderConversation(): void {
    const state = this.store.state;
    if (state.selected === null) {
      this.scroller.replaceChildren(h("p", { class: "empty" }, "Add a project to start."));
      return;
    }
    const conversation = openConversation(state);
    if (conversation !== undefined && this.scroller.firstChild !== conversation.element) {
      this.scroller.replaceChildren(conversation.element);
      this.scroller.scrollTop = this.scroller.scrollHeight;
    }
  }

  /** Beside the conversation: the open project's task list and diagnostics, when it
   *  has any. */
  private renderSide(): void {
    const { selected, tasks, progress, diagnostics } = this.store.state;
    const none = selected === null;
    renderTasks(this.taskSection, none ? [] : [...(tasks.get(selected)?.values() ?? [])], none ? null : (progress.get(selected) ?? null));
    renderDiagnostics(this.diagnosticsSection, none ? [] : [...(diagnostics.get(selected)?.values() ?? [])]);
    this.side.hidden = this.taskSection.hidden && this.diagnosticsSection.hidden;
  }

  private renderQueue(): void {
    clear(this.queue);
    const conversation = openConversation(this.store.state);
    if (conversation === undefined) return;
    const runs = [...conversation.runs.values()];
    const running = runs.filter((run) => run.state === "running");
    const queued = runs.filter((run) => run.state === "queued").sort((a, b) => a.created_at - b.created_at);
    if (running.length + queued.length === 0) return;
    const project = this.store.state.projects.get(conversation.projectId);
    const waiting = project?.agent != null && project.agent_online === false ? ` (waiting for ${project.agent})` : "";
    const entry = (run: RunInfo, label: string) =>
      h(
        "li",
        { class: `queued-run ${run.state}`, "data-run": run.id },
        h("span", { class: "label" }, label),
        h("span", { class: "text" }, run.origin === "claude" ? "Claude carries on by itself" : run.prompt),
        h("button", { type: "button", class: "cancel", onclick: () => void this.call("cancel", { project: run.project, run: run.id }) }, run.state === "running" ? "Stop" : "Cancel"),
      );
    this.queue.appendChild(
      h("ul", {}, ...running.map((run) => entry(run, "running")), ...queued.map((run, index) => entry(run, `#${index + 1} queued${waiting}`))),
    );
  }

  /** The open project's activity line (none while its history loads). */
  private renderActivity(): void {
    const state = this.store.state;
    const conversation = openConversation(state);
    if (conversation === undefined || !conversation.caughtUp) {
      this.activity.show(null);
      return;
    }
    const pending = pendingOf(state, state.selected).map((p) => p.info);
    const backgroundTasks = state.projects.get(conversation.projectId)?.background_tasks ?? 0;
    const runs = conversation.runs.values();
    this.activity.show(describeActivity({ online: state.connection === "online", runs, pending, tracker: conversation.activity, backgroundTasks }));
  }

  /** The mode menu: the project's own, or one of the modes the server accepts. */
  private renderModes(): void {
    const modes = this.store.state.permissionModes;
    const chosen = permissionMode(this.mode.value, modes);
    this.mode.replaceChildren(h("option", { value: "" }, "project's mode"), ...modes.map((mode) => h("option", { value: mode }, mode)));
    this.mode.value = chosen ?? "";
  }

  /** New content in the open conversation: follow it if the page was at its end. */
  private stickToBottom(): void {
    const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 200;
    if (nearBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** The open conversation's history is built: show its end. */
  private scrollToEndOnceLoaded(): void {
    if (openConversation(this.store.state)?.caughtUp) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
