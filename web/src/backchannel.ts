// What Claude reports through Switchboard's back-channel, kept in the store: each
// project's task list and latest progress, and the diagnostics clients published.
//
// The task lists come whole in the ``connected`` snapshot (every project's, as of each
// project's head) and in each subscribe's ack (the project's, with its diagnostics, as
// of the ack's head); ``task`` and ``diagnostics`` events change them from there. An
// event at or below the seq a snapshot was taken at is already in it (a replayed
// history), so it is skipped. Progress reports are in no snapshot: the latest one seen
// is kept, replayed or live.

import type { Draft } from "./state";
import type { Ack, Connected, DiagnosticsEvent, EventMessage, TaskEvent } from "./wire";

export class BackChannel {
  /** By project: the seq its task list and diagnostics are current up to. */
  private readonly heads = new Map<string, number>();

  /** The ``connected`` snapshot: every project's task list. */
  snapshot(draft: Draft, snapshot: Connected): void {
    draft.setAllTasks(snapshot.tasks ?? []);
    for (const project of snapshot.projects) this.heads.set(project.id, project.head);
  }

  /** A subscribe's ack: the project's task list and diagnostics (when the server sends
   *  them). */
  subscribed(draft: Draft, projectId: string, ack: Ack): void {
    if (ack.tasks != null) draft.setTasks(projectId, ack.tasks);
    if (ack.diagnostics != null) draft.setDiagnostics(projectId, ack.diagnostics);
    this.heads.set(projectId, ack.head ?? 0);
  }

  /** An event of a project's log, in seq order. */
  event(draft: Draft, event: EventMessage): void {
    if (event.kind !== "task" && event.kind !== "diagnostics") return;
    if (event.kind === "task" && event.data?.type === "progress") {
      const { message, percent, at } = event.data as Extract<TaskEvent, { type: "progress" }>;
      draft.setProgress(event.project, { message: String(message), percent: percent ?? null, at, seq: event.seq });
      return;
    }
    if (event.seq <= (this.heads.get(event.project) ?? 0)) return; // in the snapshot
    this.heads.set(event.project, event.seq);
    if (event.kind === "diagnostics") {
      draft.setFileDiagnostics(event.project, (event.data as DiagnosticsEvent).file);
      return;
    }
    const data = event.data as TaskEvent;
    if (data.type === "task_changed") draft.setTask(data.task);
    else if (data.type === "task_removed") draft.removeTask(event.project, data.task_id);
  }

  /** A project is gone: its snapshot's seq with it. */
  forget(projectId: string): void {
    this.heads.delete(projectId);
  }
}
