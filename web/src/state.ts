// The page's state in one place. Every change goes through ``Store.update``: the change
// mutates the state only through the methods of ``Draft``, each of which marks the
// parts of the state it touched; when the change is over, every view that depends on
// one of those parts runs once, in the order the views were registered. A change says
// what it changed, never which views to redraw, and a view says what it shows, never
// who changes it.
//
// A project's conversation (conversation.ts) is both state and view: it builds its
// own element from the events it takes. What the views around it show of it (the
// queue, the activity line, the scroll position) depends on the ``open.*`` parts,
// which a change marks with ``conversationChanged`` when it is the open project's.

import type { Pending } from "./approvals";
import type { ConnectionState } from "./connection";
import type { Conversation } from "./conversation";
import type { AgentInfo, ConfirmationInfo, DiagnosticsInfo, PermissionMode, ProjectInfo, TaskInfo } from "./wire";

export type Part =
  /** The connection's state (and, offline, the delay of the next attempt). */
  | "connection"
  /** Which projects exist, and their status. */
  | "projects"
  /** The confirmations waiting for an answer, in all projects. */
  | "pending"
  /** The projects whose ✕ was clicked once (it asks "Remove?"). */
  | "armed"
  /** Which project is open. */
  | "selected"
  /** The permission modes the server accepts. */
  | "modes"
  /** The remote agents, and which are online. */
  | "agents"
  /** The open project's status (``ProjectInfo``). */
  | "open.project"
  /** The open project's runs. */
  | "open.runs"
  /** The open project's conversation showed something new (an event, a delta). */
  | "open.events"
  /** The open project's conversation began loading a history, or has built it. */
  | "open.loaded"
  /** The open project's task list, or Claude's latest progress in it. */
  | "open.tasks"
  /** The open project's diagnostics. */
  | "open.diagnostics"
  /** A second went by (countdowns). */
  | "clock";

/** What a change may say about a project's conversation. */
export type ConversationPart = "runs" | "events" | "loaded";

/** What Claude last said it is doing (report_progress without a task), and the seq of
 *  the event that said it. */
export interface Progress {
  message: string;
  percent: number | null;
  at: number;
  seq: number;
}

export interface State {
  readonly connection: ConnectionState;
  /** Offline: in how many ms the next attempt is made (when it was said). */
  readonly retryMs: number | null;
  readonly projects: ReadonlyMap<string, ProjectInfo>;
  /** By confirmation id. */
  readonly pending: ReadonlyMap<string, Pending>;
  /** The projects this page shows the history of: the open one, and those opened
   *  before (they are kept up to date). */
  readonly conversations: ReadonlyMap<string, Conversation>;
  readonly armed: ReadonlySet<string>;
  readonly selected: string | null;
  readonly permissionModes: readonly PermissionMode[];
  /** The remote agents, by name. */
  readonly agents: ReadonlyMap<string, AgentInfo>;
  /** Each project's task list (by project, then task id, in the order they came). */
  readonly tasks: ReadonlyMap<string, ReadonlyMap<string, TaskInfo>>;
  /** Each project's latest progress report. */
  readonly progress: ReadonlyMap<string, Progress>;
  /** Each project's latest diagnostics (by project, then path; files with none left out). */
  readonly diagnostics: ReadonlyMap<string, ReadonlyMap<string, DiagnosticsInfo>>;
}

interface MutableState {
  connection: ConnectionState;
  retryMs: number | null;
  projects: Map<string, ProjectInfo>;
  pending: Map<string, Pending>;
  conversations: Map<string, Conversation>;
  armed: Set<string>;
  selected: string | null;
  permissionModes: PermissionMode[];
  agents: Map<string, AgentInfo>;
  tasks: Map<string, Map<string, TaskInfo>>;
  progress: Map<string, Progress>;
  diagnostics: Map<string, Map<string, DiagnosticsInfo>>;
}

/** The projects, by name. */
export function sortedProjects(state: State): ProjectInfo[] {
  return [...state.projects.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The project to open when none is: the first by name. */
export function firstProject(state: State): string | null {
  return sortedProjects(state)[0]?.id ?? null;
}

/** The open project's conversation, if a project is open. */
export function openConversation(state: State): Conversation | undefined {
  return state.selected === null ? undefined : state.conversations.get(state.selected);
}

/** The pending confirmations of a project. */
export function pendingOf(state: State, projectId: string | null): Pending[] {
  return [...state.pending.values()].filter((pending) => pending.info.project === projectId);
}

/** The only way to change the state: what each method changes, it marks. */
export class Draft {
  constructor(
    private readonly state: MutableState,
    private readonly mark: (part: Part) => void,
    private readonly open: (projectId: string) => Conversation,
  ) {}

  /** The state as the change left it so far. */
  get current(): State {
    return this.state;
  }

  setConnection(connection: ConnectionState, retryMs: number | null): void {
    this.state.connection = connection;
    this.state.retryMs = retryMs;
    this.mark("connection");
  }

  setPermissionModes(modes: readonly PermissionMode[]): void {
    const known = this.state.permissionModes;
    if (modes.length === known.length && modes.every((mode, index) => mode === known[index])) return;
    this.state.permissionModes = [...modes];
    this.mark("modes");
  }

  /** All the agents there are now (a snapshot). */
  setAgents(agents: readonly AgentInfo[]): void {
    this.state.agents.clear();
    for (const agent of agents) this.state.agents.set(agent.name, agent);
    this.mark("agents");
  }

  /** An agent came online, went offline, or was removed (its token revoked). */
  setAgent(agent: AgentInfo, removed: boolean): void {
    if (removed) this.state.agents.delete(agent.name);
    else this.state.agents.set(agent.name, agent);
    this.mark("agents");
  }

  /** All the projects there are now (a snapshot). */
  setProjects(projects: readonly ProjectInfo[]): void {
    this.state.projects.clear();
    for (const project of projects) this.state.projects.set(project.id, project);
    this.mark("projects");
    this.mark("open.project");
  }

  /** A project's new status, or a project added. */
  setProject(project: ProjectInfo): void {
    this.state.projects.set(project.id, project);
    this.mark("projects");
    if (project.id === this.state.selected) this.mark("open.project");
  }

  /** A project is gone: its status, conversation and approvals. (Open another one with
   *  ``select``, if it was the open one.) */
  removeProject(projectId: string): void {
    this.state.projects.delete(projectId);
    this.mark("projects");
    this.forget(projectId);
    this.state.tasks.delete(projectId);
    this.state.progress.delete(projectId);
    this.state.diagnostics.delete(projectId);
  }

  /** Stop following a project: its conversation and its approvals. */
  forget(projectId: string): void {
    const conversation = this.state.conversations.get(projectId);
    if (conversation !== undefined) {
      conversation.dispose();
      this.state.conversations.delete(projectId);
      if (projectId === this.state.selected) this.mark("selected");
    }
    this.dropPending(projectId);
  }

  /** Open a project (again): its conversation is begun if the page has none. */
  select(projectId: string | null): void {
    this.state.selected = projectId;
    if (projectId !== null && !this.state.conversations.has(projectId)) {
      this.state.conversations.set(projectId, this.open(projectId));
    }
    this.mark("selected");
  }

  setPending(confirmation: ConfirmationInfo): void {
    this.state.pending.set(confirmation.id, { info: confirmation, receivedAt: Date.now() });
    this.mark("pending");
  }

  deletePending(confirmationId: string): void {
    if (this.state.pending.delete(confirmationId)) this.mark("pending");
  }

  clearPending(): void {
    this.state.pending.clear();
    this.mark("pending");
  }

  /** Forget a project's pending confirmations (its subscription brings them anew). */
  dropPending(projectId: string): void {
    for (const [id, pending] of this.state.pending) {
      if (pending.info.project === projectId) this.state.pending.delete(id);
    }
    this.mark("pending");
  }

  /** The first click on a project's ✕. */
  arm(projectId: string): void {
    this.state.armed.add(projectId);
    this.mark("armed");
  }

  /** The second click. The button keeps asking "Remove?" until the project is gone,
   *  so nothing is shown anew. */
  disarm(projectId: string): void {
    this.state.armed.delete(projectId);
  }

  /** A project's conversation changed (it changes itself: this says what changed);
   *  the views see it when it is the open project's. */
  conversationChanged(projectId: string, ...parts: ConversationPart[]): void {
    if (projectId !== this.state.selected) return;
    for (const part of parts) this.mark(`open.${part}`);
  }

  /** Every project's task list (a snapshot). */
  setAllTasks(tasks: readonly TaskInfo[]): void {
    this.state.tasks.clear();
    for (const task of tasks) this.tasksOf(task.project).set(task.id, task);
    this.mark("open.tasks");
  }

  /** A project's whole task list. */
  setTasks(projectId: string, tasks: readonly TaskInfo[]): void {
    this.state.tasks.set(projectId, new Map(tasks.map((task) => [task.id, task])));
    this.markOpen(projectId, "open.tasks");
  }

  /** A task added or changed (a changed one keeps its place). */
  setTask(task: TaskInfo): void {
    this.tasksOf(task.project).set(task.id, task);
    this.markOpen(task.project, "open.tasks");
  }

  removeTask(projectId: string, taskId: string): void {
    if (this.state.tasks.get(projectId)?.delete(taskId)) this.markOpen(projectId, "open.tasks");
  }

  /** Claude's progress report, if it is newer than the one known. */
  setProgress(projectId: string, progress: Progress): void {
    if ((this.state.progress.get(projectId)?.seq ?? -1) >= progress.seq) return;
    this.state.progress.set(projectId, progress);
    this.markOpen(projectId, "open.tasks");
  }

  /** A project's diagnostics, every file's (a snapshot). */
  setDiagnostics(projectId: string, files: readonly DiagnosticsInfo[]): void {
    this.state.diagnostics.set(projectId, new Map(files.filter((file) => file.diagnostics.length > 0).map((file) => [file.path, file])));
    this.markOpen(projectId, "open.diagnostics");
  }

  /** One file's diagnostics replaced (none: the file is left out). */
  setFileDiagnostics(projectId: string, file: DiagnosticsInfo): void {
    let files = this.state.diagnostics.get(projectId);
    if (files === undefined) this.state.diagnostics.set(projectId, (files = new Map()));
    if (file.diagnostics.length === 0) files.delete(file.path);
    else files.set(file.path, file);
    this.markOpen(projectId, "open.diagnostics");
  }

  tick(): void {
    this.mark("clock");
  }

  private tasksOf(projectId: string): Map<string, TaskInfo> {
    let tasks = this.state.tasks.get(projectId);
    if (tasks === undefined) this.state.tasks.set(projectId, (tasks = new Map()));
    return tasks;
  }

  private markOpen(projectId: string, part: Part): void {
    if (projectId === this.state.selected) this.mark(part);
  }
}

interface View {
  parts: ReadonlySet<Part>;
  render(): void;
}

export class Store {
  private readonly current: MutableState = {
    connection: "connecting",
    retryMs: null,
    projects: new Map(),
    pending: new Map(),
    conversations: new Map(),
    armed: new Set(),
    selected: null,
    permissionModes: [],
    agents: new Map(),
    tasks: new Map(),
    progress: new Map(),
    diagnostics: new Map(),
  };
  private readonly draft: Draft;
  private readonly views: View[] = [];
  private dirty = new Set<Part>();
  private depth = 0;
  private flushing = false;

  /** ``open`` begins the conversation of a project opened for the first time. */
  constructor(open: (projectId: string) => Conversation) {
    this.draft = new Draft(this.current, (part) => this.dirty.add(part), open);
  }

  get state(): State {
    return this.current;
  }

  /** Show part of the state: ``render`` runs after each change to one of ``parts``.
   *  A view reads ``state``; it never changes it. */
  view(parts: readonly Part[], render: () => void): void {
    this.views.push({ parts: new Set(parts), render });
  }

  /** Run ``change``, then the views of what it changed. A change made inside another
   *  one is part of it: the views run once, when the outer one is over. */
  update(change: (draft: Draft) => void): void {
    this.depth++;
    try {
      change(this.draft);
    } finally {
      this.depth--;
    }
    if (this.depth === 0 && !this.flushing) this.flush();
  }

  private flush(): void {
    this.flushing = true;
    try {
      while (this.dirty.size > 0) {
        const dirty = this.dirty;
        this.dirty = new Set();
        for (const view of this.views) {
          if ([...view.parts].some((part) => dirty.has(part))) view.render();
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
