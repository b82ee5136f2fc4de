// The UI's names for the /ws messages: aliases of the types generated from the
// protocol's schema (protocol.ts, `npm run protocol`), and the few helpers that narrow
// them. No message is described here a second time.

import type * as wire from "./protocol";

/** A message as the server sends it. The server writes every field of its messages
 *  (nulls included), so a field with a default, optional in the schema (which says what
 *  the server accepts), is always there: ``Sent`` makes such fields required, at every
 *  depth. */
export type Sent<T> = T extends readonly (infer Item)[] ? Sent<Item>[] : T extends object ? { [K in keyof T]-?: Sent<T[K]> } : T;

export type Connected = Sent<wire.Connected>;
export type Ack = Sent<wire.Ack>;
export type ErrorMessage = Sent<wire.Error>;
export type ProjectInfo = Sent<wire.ProjectInfo>;
export type RunInfo = Sent<wire.RunInfo>;
export type RunState = RunInfo["state"];
export type ConfirmationInfo = Sent<wire.ConfirmationInfo>;
export type ConfirmationKind = ConfirmationInfo["kind"];
export type StoredSessionInfo = Sent<wire.StoredSessionInfo>;
export type AgentInfo = Sent<wire.AgentInfo>;
export type PermissionMode = Connected["permission_modes"][number];
/** The ``data`` of an event of kind ``confirmation``. */
export type ConfirmationEvent = Sent<wire.ConfirmationEvent>;

// The back-channel: what Claude reports through Switchboard's tools, and the
// diagnostics clients publish.
export type TaskInfo = Sent<wire.TaskInfo>;
export type TaskStatus = TaskInfo["status"];
/** The ``data`` of an event of kind ``task``. */
export type TaskEvent = Sent<wire.TaskChanged> | Sent<wire.TaskRemoved> | Sent<wire.ProgressReported>;
export type ProgressReported = Sent<wire.ProgressReported>;
/** One file's proposed change, as a unified diff. */
export type FileDiff = Sent<wire.FileDiff>;
/** The ``data`` of an event of kind ``diff_preview``. */
export type DiffPreview = Sent<wire.DiffPreview>;
/** The ``data`` of an event of kind ``notification``. */
export type NotificationEvent = Sent<wire.Notification>;
export type DiagnosticsInfo = Sent<wire.DiagnosticsInfo>;
export type Diagnostic = Sent<wire.Diagnostic>;
/** The ``data`` of an event of kind ``diagnostics``. */
export type DiagnosticsEvent = Sent<wire.DiagnosticsPublished>;
/** A live-only ``activity`` frame: Claude started or finished a tool. */
export type ActivityFrame = Sent<wire.Activity>;

/** An ``event``: its ``data`` is a CLI line or an event body, any JSON object, which
 *  the UI reads field by field. */
export type EventMessage = Omit<Sent<wire.Event>, "data"> & { data: any };
export type EventKind = EventMessage["kind"];
/** A live token delta (a CLI ``stream_event`` line in ``data``). */
export type DeltaMessage = Omit<Sent<wire.Delta>, "data"> & { data: any };

/** A replay's events, many to a frame (a subscription asked with ``batch``). */
export type EventBatchMessage = Omit<Sent<wire.EventBatch>, "events"> & { events: EventMessage[] };

export type ServerMessage =
  | Exclude<Sent<wire.ServerMessage>, { type: "event" | "events" | "delta" }>
  | EventMessage
  | EventBatchMessage
  | DeltaMessage;

/** A request's ``type``, and its fields but for ``type`` and ``id`` (the connection
 *  adds those). */
export type RequestType = wire.ClientMessage["type"];
export type RequestFields<T extends RequestType> = Extract<wire.ClientMessage, { type: T }> extends infer M
  ? M extends unknown
    ? Omit<M, "type" | "id">
    : never
  : never;

export const FINISHED: ReadonlySet<RunState> = new Set<RunState>(["completed", "failed", "cancelled", "interrupted"]);

/** ``value`` if it is one of ``modes`` (the modes the server accepts), else null. */
export function permissionMode(value: string, modes: readonly PermissionMode[]): PermissionMode | null {
  return modes.find((mode) => mode === value) ?? null;
}
