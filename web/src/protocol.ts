// GENERATED from docs/protocol.schema.json by json-schema-to-typescript: do not edit.
// Regenerate (after changing the models in src/switchboard/protocol/messages.py):
//     python -m switchboard.protocol.schema docs/protocol.schema.json
//     cd web && npm run protocol
// Friendlier names and narrowing helpers for the UI are in wire.ts.

export type ClientMessage =
  | Subscribe
  | Unsubscribe
  | Prompt
  | Cancel
  | RunList
  | ProjectAdd
  | ProjectList
  | ProjectRemove
  | ProjectRetention
  | ProjectBudget
  | SessionNew
  | SessionList
  | SessionUse
  | Heartbeat
  | ConfirmationResponse
  | PauseTimer
  | ResumeTimer
  | PermissionsList
  | PermissionsRemove
  | PermissionModeSet
  | SkillEventPublish
  | ConfirmationRequest
  | ConfirmationWithdraw
  | TokenCreate
  | TokenList
  | TokenRevoke
  | DiagnosticsPublish
  | ProjectBackChannel
  | AuditList
  | PushSubscribe
  | PushUnsubscribe
  | Presence;
export type ConfirmationEvent = ConfirmationRequired | ConfirmationAnswered | ConfirmationExpired | ConfirmationTimer;
export type Type = "diagnostics";
export type At = number;
export type Title = string | null;
export type Type1 = "diff_preview";
export type At1 = number;
export type Level = "info" | "success" | "warning" | "error";
export type Message = string;
export type Type2 = "notification";
export type ServerMessage =
  | Connected
  | Ack
  | Error
  | Event
  | EventBatch
  | Delta
  | CaughtUp
  | ProjectStatus
  | ProjectRemoved
  | AgentStatus
  | HeartbeatAck
  | ConfirmationResult
  | Activity;
export type SkillEvent =
  | SkillStarted
  | SkillCompleted
  | SkillFailed
  | StepStarted
  | StepCompleted
  | StepFailed
  | AutoHealTriggered
  | AutoHealCompleted
  | MemoryQueryStarted
  | MemoryQueryCompleted
  | IntentClassified;

export interface Protocol {
  agent_to_hub?:
    | LinkHello
    | LinkHeartbeat
    | LinkHeartbeatAck
    | LinkReply
    | LinkOutput
    | LinkAsk
    | LinkToolCall
    | LinkWithdrawn
    | LinkExited;
  client_to_server: ClientMessage;
  confirmation_event_data: ConfirmationEvent;
  diagnostics_event_data?: DiagnosticsPublished;
  diff_preview_event_data?: DiffPreview;
  hub_to_agent?: LinkWelcome | LinkHeartbeat | LinkHeartbeatAck | LinkError | LinkCommand | LinkAck;
  notification_event_data?: Notification;
  permission_mode_event_data: PermissionModeChanged;
  server_to_client: ServerMessage;
  skill_event_data: SkillEvent;
  task_event_data?: TaskChanged | TaskRemoved | ProgressReported;
}
/**
 * Agent → hub, first: who it is and where it may run things.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkHello".
 */
export interface LinkHello {
  /**
   * @maxItems 64
   */
  allowed_roots: string[];
  /**
   * The agent's name; must be its token's (null: the token's).
   */
  name?: string | null;
  /**
   * The sessions the agent still has: live processes, and those with messages the hub has not acknowledged.
   *
   * @maxItems 1000
   */
  sessions?: string[];
  /**
   * The agent's spool: its messages' seqs count in it.
   */
  spool?: string;
  type: "hello";
  version: string;
}
/**
 * Either way: I am here. Answered with ``heartbeat_ack``.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkHeartbeat".
 */
export interface LinkHeartbeat {
  sent_at: number;
  type?: "heartbeat";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkHeartbeatAck".
 */
export interface LinkHeartbeatAck {
  sent_at: number;
  type?: "heartbeat_ack";
}
/**
 * Agent → hub: how a command went (``result``, or ``error``).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkReply".
 */
export interface LinkReply {
  error?: LinkFailure | null;
  id: number;
  result?: {
    [k: string]: unknown;
  } | null;
  type: "reply";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkFailure".
 */
export interface LinkFailure {
  code: string;
  message: string;
}
/**
 * Agent → hub: what a session's process printed, as neutral agent events.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkOutput".
 */
export interface LinkOutput {
  background_pending: number;
  /**
   * @maxItems 10000
   */
  events: {
    [k: string]: unknown;
  }[];
  seq: number;
  session: string;
  turn_running: boolean;
  type: "output";
}
/**
 * Agent → hub: a session's process asks a person (a permission, a question, a plan).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkAsk".
 */
export interface LinkAsk {
  ask: {
    [k: string]: unknown;
  };
  seq: number;
  session: string;
  type: "ask";
}
/**
 * Agent → hub: a session's process called one of Switchboard's own tools (the
 * back-channel), with the files it names as the agent found them. Answered by a
 * ``tool_result`` command.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkToolCall".
 */
export interface LinkToolCall {
  call: {
    [k: string]: unknown;
  };
  seq: number;
  session: string;
  type: "tool_call";
}
/**
 * Agent → hub: the process no longer waits for that ask or tool call (the CLI
 * withdrew it, or it was answered).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkWithdrawn".
 */
export interface LinkWithdrawn {
  request_id: string;
  seq: number;
  session: string;
  type: "withdrawn";
}
/**
 * Agent → hub: a session's process is gone; nothing more comes from it.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkExited".
 */
export interface LinkExited {
  returncode: number | null;
  seq: number;
  session: string;
  stderr: string;
  type: "exited";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Subscribe".
 */
export interface Subscribe {
  /**
   * Send the stored events (the replay) in `events` frames, many events to a frame, instead of one `event` frame each. Live events come one a frame either way.
   */
  batch?: boolean;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  /**
   * Send stored events with seq > since, then live ones.
   */
  since?: number;
  type: "subscribe";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Unsubscribe".
 */
export interface Unsubscribe {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "unsubscribe";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Prompt".
 */
export interface Prompt {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  options?: RunOptions;
  project: string;
  text: string;
  type: "prompt";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "RunOptions".
 */
export interface RunOptions {
  model?: string | null;
  permission_mode?: ("default" | "acceptEdits" | "plan" | "bypassPermissions" | "dontAsk") | null;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Cancel".
 */
export interface Cancel {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  /**
   * Default: the project's running run.
   */
  run?: string | null;
  type: "cancel";
}
/**
 * A project's runs, newest first, a page at a time: at most ``limit``, and no more
 * than fit in one message of ``--max-message-bytes`` (an empty page: no older runs).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "RunList".
 */
export interface RunList {
  /**
   * The id of a run: list the runs created before it; null: the newest.
   */
  before?: string | null;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  limit?: number;
  project: string;
  type: "run.list";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectAdd".
 */
export interface ProjectAdd {
  /**
   * The remote agent the directory is on (its path there); null: the server's machine.
   */
  agent?: string | null;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  name?: string | null;
  path: string;
  type: "project.add";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectList".
 */
export interface ProjectList {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "project.list";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectRemove".
 */
export interface ProjectRemove {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "project.remove";
}
/**
 * Set the project's own retention policy: how old, or how large, its event log may
 * grow before its oldest events are deleted. A field left out (or null) follows the
 * server's setting; 0 sets no limit of that kind for this project.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectRetention".
 */
export interface ProjectRetention {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  /**
   * Delete events older than this; null: --retention-max-age.
   */
  max_age_seconds?: number | null;
  /**
   * Keep at most this much of the newest events (characters of JSON); null: --retention-max-bytes.
   */
  max_bytes?: number | null;
  project: string;
  type: "project.retention";
}
/**
 * Set the project's own budgets in USD. A field left out (or null) follows the
 * server's default (--budget-daily-usd, --budget-run-usd); 0 lets nothing be spent.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectBudget".
 */
export interface ProjectBudget {
  /**
   * What the project's runs may cost per UTC day; once they have, prompts are refused (budget_exceeded). null: --budget-daily-usd.
   */
  daily_usd?: number | null;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  /**
   * What one run may cost; a run that passes it is stopped (interrupted, error budget_exceeded). null: --budget-run-usd.
   */
  run_usd?: number | null;
  type: "project.budget";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SessionNew".
 */
export interface SessionNew {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "session.new";
}
/**
 * The Claude sessions the CLI has stored for the project's directory.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SessionList".
 */
export interface SessionList {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "session.list";
}
/**
 * Make a stored Claude session the project's: the next run resumes it, and its
 * earlier history is added to the project's log as ``imported`` events.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SessionUse".
 */
export interface SessionUse {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  session: string;
  type: "session.use";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Heartbeat".
 */
export interface Heartbeat {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "heartbeat";
}
/**
 * Answer a pending confirmation; the first valid answer wins.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationResponse".
 */
export interface ConfirmationResponse {
  /**
   * question: question text → chosen label(s) or free text (several questions).
   */
  answers?: {
    [k: string]: string | string[];
  } | null;
  confirmation_id: string;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  /**
   * deny: the reason Claude is told.
   */
  message?: string | null;
  /**
   * allow: answer matching requests of the project so.
   */
  remember?: boolean;
  /**
   * One of the confirmation's options (tool permissions: allow or deny).
   */
  response: string;
  type: "confirmation_response";
  /**
   * allow: run the tool with this input instead.
   */
  updated_input?: {
    [k: string]: unknown;
  } | null;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PauseTimer".
 */
export interface PauseTimer {
  confirmation_id: string;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "pause_timer";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ResumeTimer".
 */
export interface ResumeTimer {
  confirmation_id: string;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "resume_timer";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PermissionsList".
 */
export interface PermissionsList {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "permissions.list";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PermissionsRemove".
 */
export interface PermissionsRemove {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  rule: string;
  type: "permissions.remove";
}
/**
 * Set the project's permission mode; a running run switches at once.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PermissionModeSet".
 */
export interface PermissionModeSet {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  /**
   * null: the CLI's default.
   */
  mode: ("default" | "acceptEdits" | "plan" | "bypassPermissions" | "dontAsk") | null;
  project: string;
  type: "permission_mode.set";
}
/**
 * A producer reports skill progress; stored in the project's log.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SkillEventPublish".
 */
export interface SkillEventPublish {
  event:
    | SkillStarted
    | SkillCompleted
    | SkillFailed
    | StepStarted
    | StepCompleted
    | StepFailed
    | AutoHealTriggered
    | AutoHealCompleted
    | MemoryQueryStarted
    | MemoryQueryCompleted
    | IntentClassified;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "skill.event";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SkillStarted".
 */
export interface SkillStarted {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  inputs?: {
    [k: string]: unknown;
  } | null;
  name: string;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  /**
   * What started it (free text).
   */
  source?: string | null;
  step_names?: string[] | null;
  total_steps: number;
  type?: "skill_started";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SkillCompleted".
 */
export interface SkillCompleted {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  duration_ms?: number | null;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  type?: "skill_completed";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SkillFailed".
 */
export interface SkillFailed {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  duration_ms?: number | null;
  error: string;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  type?: "skill_failed";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "StepStarted".
 */
export interface StepStarted {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  description?: string | null;
  name: string;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  step_index: number;
  type?: "step_started";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "StepCompleted".
 */
export interface StepCompleted {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  duration_ms?: number | null;
  name?: string | null;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  step_index: number;
  type?: "step_completed";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "StepFailed".
 */
export interface StepFailed {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  error: string;
  name?: string | null;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  step_index: number;
  type?: "step_failed";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "AutoHealTriggered".
 */
export interface AutoHealTriggered {
  /**
   * What the healer does about it.
   */
  action: string;
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  /**
   * What kind of failure is being healed.
   */
  heal_type: string;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  step_index: number;
  type?: "auto_heal_triggered";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "AutoHealCompleted".
 */
export interface AutoHealCompleted {
  action: string;
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  skill_id: string;
  step_index: number;
  success: boolean;
  type?: "auto_heal_completed";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "MemoryQueryStarted".
 */
export interface MemoryQueryStarted {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  query: string;
  query_id: string;
  sources?: string[];
  type?: "memory_query_started";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "MemoryQueryCompleted".
 */
export interface MemoryQueryCompleted {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  intent?: string | null;
  latency_ms?: number | null;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  query_id: string;
  result_count?: number;
  sources?: string[];
  type?: "memory_query_completed";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "IntentClassified".
 */
export interface IntentClassified {
  /**
   * Set by the server: when it was stored.
   */
  at?: number | null;
  confidence?: number | null;
  intent: string;
  /**
   * Set by the server: "embedded", or the name of the token that sent it.
   */
  producer?: string | null;
  query_id?: string | null;
  type?: "intent_classified";
}
/**
 * A producer asks a person (the skill API's ``request_confirmation``). Acked at once
 * with the confirmation; its outcome comes later as ``confirmation_result``.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationRequest".
 */
export interface ConfirmationRequest {
  claude_suggestion?: string | null;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  /**
   * @minItems 1
   * @maxItems 50
   */
  options: [string, ...string[]];
  project: string;
  prompt: string;
  skill_id: string;
  step_index: number;
  /**
   * Default: the server's --question-timeout.
   */
  timeout_seconds?: number | null;
  type: "confirmation.request";
}
/**
 * The connection that sent a ``confirmation.request`` no longer wants the answer.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationWithdraw".
 */
export interface ConfirmationWithdraw {
  confirmation_id: string;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "confirmation.withdraw";
}
/**
 * Create a token (admin only); the ack carries its secret, once. A role token
 * (viewer, operator, admin) is a person's: it covers every project.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TokenCreate".
 */
export interface TokenCreate {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  name: string;
  /**
   * produce: the projects it may publish to; null: every project.
   */
  projects?: string[] | null;
  scope?: "produce" | "agent" | "viewer" | "operator" | "admin";
  type: "token.create";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TokenList".
 */
export interface TokenList {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "token.list";
}
/**
 * Revoke a token; its open connections are closed with 4003.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TokenRevoke".
 */
export interface TokenRevoke {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  token: string;
  type: "token.revoke";
}
/**
 * Replace the diagnostics of one file of a project (an empty list clears them).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "DiagnosticsPublish".
 */
export interface DiagnosticsPublish {
  /**
   * @maxItems 1000
   */
  diagnostics: Diagnostic[];
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  /**
   * The file, relative to the project (or inside it).
   */
  path: string;
  project: string;
  type: "diagnostics.publish";
}
/**
 * One diagnostic, shaped like LSP's ``Diagnostic``.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Diagnostic".
 */
export interface Diagnostic {
  code?: string | number | null;
  message: string;
  range: Range;
  /**
   * 1 error, 2 warning, 3 information, 4 hint (LSP).
   */
  severity?: number | null;
  /**
   * What found it (mypy, ruff, tsc, …).
   */
  source?: string | null;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Range".
 */
export interface Range {
  end: Position;
  start: Position;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Position".
 */
export interface Position {
  /**
   * 0-based, as in LSP.
   */
  character: number;
  /**
   * 0-based, as in LSP.
   */
  line: number;
}
/**
 * Turn the project's back-channel (the switchboard MCP tools, task mirroring and
 * activity) on or off; a CLI already up keeps its setting until it is restarted.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectBackChannel".
 */
export interface ProjectBackChannel {
  enabled: boolean;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  project: string;
  type: "project.back_channel";
}
/**
 * The audit list, newest first (admin only): who prompted, answered or changed what.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "AuditList".
 */
export interface AuditList {
  /**
   * Entries older than this id.
   */
  before?: number | null;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  limit?: number;
  /**
   * Only this project's.
   */
  project?: string | null;
  type: "audit.list";
}
/**
 * Have this browser's push subscription sent alerts (Web Push); sending the same
 * endpoint again replaces its keys.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PushSubscribe".
 */
export interface PushSubscribe {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  subscription: PushSubscriptionInfo;
  type: "push.subscribe";
}
/**
 * A browser's push subscription (``PushSubscription.toJSON()``).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PushSubscriptionInfo".
 */
export interface PushSubscriptionInfo {
  /**
   * The push service's URL for this browser (https unless the server runs with --push-allow-http).
   */
  endpoint: string;
  /**
   * When the browser lets it lapse (ms since 1970), or null.
   */
  expirationTime?: number | null;
  keys: PushKeys;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PushKeys".
 */
export interface PushKeys {
  /**
   * The browser's 16-byte authentication secret, base64url.
   */
  auth: string;
  /**
   * The browser's P-256 public key (65 bytes uncompressed), base64url.
   */
  p256dh: string;
}
/**
 * Stop pushing to this endpoint.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PushUnsubscribe".
 */
export interface PushUnsubscribe {
  endpoint: string;
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  type: "push.unsubscribe";
}
/**
 * The client shows these projects to a person now (visible: true), or stopped
 * showing them (visible: false). Alerts for a project a client showed recently are
 * not pushed. Send it again while showing them (within push_idle_seconds).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Presence".
 */
export interface Presence {
  /**
   * Echoed in the ack or error.
   */
  id?: string | number | null;
  /**
   * @maxItems 256
   */
  projects: string[];
  type: "presence";
  visible: boolean;
}
/**
 * ``event`` data (kind ``confirmation``): Claude asks; clients may answer.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationRequired".
 */
export interface ConfirmationRequired {
  confirmation: ConfirmationInfo;
  type?: "confirmation_required";
}
/**
 * A question Claude (or a skill) asked that waits for a client's answer.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationInfo".
 */
export interface ConfirmationInfo {
  /**
   * kind approval (request_approval): the summary and each file's diff.
   */
  approval?: ApprovalInfo | null;
  created_at: number;
  id: string;
  /**
   * The tool's input ({} for kind skill).
   */
  input: {
    [k: string]: unknown;
  };
  kind: "tool_permission" | "question" | "plan" | "skill" | "approval";
  options: string[];
  paused: boolean;
  /**
   * kind plan: the plan to approve, from the tool's input or (CLI builds that ask with an empty input) the plan file Claude wrote.
   */
  plan?: string | null;
  project: string;
  remaining_seconds: number;
  /**
   * null (or absent) for kind skill.
   */
  run?: string | null;
  /**
   * kind skill: what it asks.
   */
  skill?: SkillQuestion | null;
  /**
   * The CLI's permission suggestions, unchanged.
   */
  suggestions: unknown[];
  /**
   * What is asked, in a line or a few, as the agent puts it (a tool's command or file, a question's questions); null when it cannot say.
   */
  summary?: string | null;
  timeout_seconds: number;
  /**
   * null (or absent) for kind skill.
   */
  tool_name?: string | null;
}
/**
 * A ``request_approval`` confirmation: what Claude wants approved.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ApprovalInfo".
 */
export interface ApprovalInfo {
  changes: FileDiff[];
  summary: string;
}
/**
 * One file's proposed change, as a unified diff against the file as it is now.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "FileDiff".
 */
export interface FileDiff {
  /**
   * Unified diff (empty: no change).
   */
  diff: string;
  /**
   * The file does not exist yet.
   */
  new_file: boolean;
  /**
   * As Claude named it, relative to the project.
   */
  path: string;
  /**
   * The diff was cut to the size limit.
   */
  truncated?: boolean;
}
/**
 * What a skill asks a person (the skill API's ``request_confirmation``).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SkillQuestion".
 */
export interface SkillQuestion {
  /**
   * The option Claude would pick, shown as a hint.
   */
  claude_suggestion?: string | null;
  /**
   * Set by the server: who asks.
   */
  producer?: string | null;
  prompt: string;
  skill_id: string;
  step_index: number;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationAnswered".
 */
export interface ConfirmationAnswered {
  /**
   * by "client": the name of the token that answered ("server token" for the server's own).
   */
  answered_by?: string | null;
  at: number;
  by: "client" | "rule";
  confirmation_id: string;
  message?: string | null;
  /**
   * kind skill: the answer's remember flag, for the skill.
   */
  remember?: boolean | null;
  /**
   * remember: the ids of the rules stored by this answer.
   */
  remembered?: string[] | null;
  response: string;
  /**
   * by "rule": the rule that answered.
   */
  rule?: string | null;
  type?: "confirmation_answered";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationExpired".
 */
export interface ConfirmationExpired {
  confirmation_id: string;
  /**
   * What the asker got: deny (Claude), let_claude (skills); asked_again: the question stands and comes again as a new confirmation (the server restarted while its run went on on a remote agent).
   */
  fallback?: "deny" | "let_claude" | "asked_again";
  reason: "timeout" | "cancelled" | "withdrawn" | "ended" | "server_restart";
  type?: "confirmation_expired";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationTimer".
 */
export interface ConfirmationTimer {
  confirmation_id: string;
  paused: boolean;
  remaining_seconds: number;
  type?: "confirmation_timer";
}
/**
 * ``event`` data (kind ``diagnostics``): a file's diagnostics were replaced.
 */
export interface DiagnosticsPublished {
  file: DiagnosticsInfo;
  type?: Type;
}
/**
 * The latest diagnostics published for one file of a project.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "DiagnosticsInfo".
 */
export interface DiagnosticsInfo {
  /**
   * The token that published them.
   */
  by?: string | null;
  diagnostics: Diagnostic[];
  path: string;
  published_at: number;
}
/**
 * ``event`` data (kind ``diff_preview``): Claude shows a change (``show_diff``).
 */
export interface DiffPreview {
  at: At;
  change: FileDiff;
  title?: Title;
  type?: Type1;
}
/**
 * Hub → agent: the link is up.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkWelcome".
 */
export interface LinkWelcome {
  heartbeat_interval: number;
  heartbeat_timeout: number;
  link_grace: number;
  max_message_bytes: number;
  name: string;
  server_version: string;
  type?: "welcome";
}
/**
 * Hub → agent: a message it could not take; the link stays up.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkError".
 */
export interface LinkError {
  code: "bad_json" | "bad_message" | "unknown_type";
  message: string;
  type?: "error";
}
/**
 * Hub → agent: do ``op`` (in ``session``, an agent process the hub launched);
 * answered by a ``reply`` with the same ``id``.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkCommand".
 */
export interface LinkCommand {
  args?: {
    [k: string]: unknown;
  };
  id: number;
  op:
    | "check_path"
    | "launch"
    | "prompt"
    | "answer"
    | "cancel"
    | "set_mode"
    | "set_model"
    | "end_input"
    | "close"
    | "kill"
    | "follow_up_started"
    | "list_sessions"
    | "read_session"
    | "adopt"
    | "tool_result";
  session?: string | null;
  type?: "command";
}
/**
 * Hub → agent: every spooled message up to ``seq`` is stored; forget them.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "LinkAck".
 */
export interface LinkAck {
  seq: number;
  type?: "ack";
}
/**
 * ``event`` data (kind ``notification``): Claude asks that a person be told.
 */
export interface Notification {
  at: At1;
  level: Level;
  message: Message;
  type?: Type2;
}
/**
 * ``event`` data (kind ``permission_mode``).
 */
export interface PermissionModeChanged {
  /**
   * The name of the token that set it.
   */
  by?: string | null;
  mode: ("default" | "acceptEdits" | "plan" | "bypassPermissions" | "dontAsk") | null;
  /**
   * The running run that switched at once, if any.
   */
  run: string | null;
  type?: "permission_mode";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Connected".
 */
export interface Connected {
  /**
   * The remote agents (one per agent token).
   */
  agents?: AgentInfo[];
  limits: {
    [k: string]: number;
  };
  pending_confirmations: ConfirmationInfo[];
  /**
   * The permission modes this server accepts (bypassPermissions only with --allow-bypass-permissions).
   */
  permission_modes: ("default" | "acceptEdits" | "plan" | "bypassPermissions" | "dontAsk")[];
  projects: ProjectInfo[];
  protocol?: number;
  /**
   * The server's VAPID public key (base64url, uncompressed P-256): the applicationServerKey for PushManager.subscribe. null: no Web Push here.
   */
  push_public_key?: string | null;
  /**
   * scope full: the token's role (the server's own token is an admin).
   */
  role?: ("viewer" | "operator" | "admin") | null;
  running_runs: RunInfo[];
  running_skills: SkillState[];
  /**
   * What this connection's token may do (produce: publish and ask only).
   */
  scope: "full" | "produce";
  server_version: string;
  /**
   * Every project's task list (see back-channel).
   */
  tasks?: TaskInfo[];
  type?: "connected";
}
/**
 * A remote agent machine (``switchboard agent``), known by its agent token.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "AgentInfo".
 */
export interface AgentInfo {
  /**
   * Where it may run projects, as it said when it connected.
   */
  allowed_roots: string[];
  /**
   * When the hub last heard from it (null: not since the hub started).
   */
  last_seen: number | null;
  name: string;
  /**
   * On a cluster: the node its link is on (which runs its projects); null on a single server, or while it is offline.
   */
  node?: string | null;
  online: boolean;
  /**
   * The ids of the projects that live on it.
   */
  projects?: string[];
  /**
   * The ids of its projects' runs under way now.
   */
  running_runs?: string[];
  /**
   * Its Switchboard version, once it connected.
   */
  version: string | null;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectInfo".
 */
export interface ProjectInfo {
  /**
   * The remote agent it lives on; null: the server's machine.
   */
  agent?: string | null;
  /**
   * Whether that agent's link is up (null: no agent).
   */
  agent_online?: boolean | null;
  /**
   * Claude gets the switchboard tools (tasks, approvals, diffs, diagnostics, notifications), and its todo list and activity are mirrored.
   */
  back_channel?: boolean;
  /**
   * Background work the project's CLI reports as still running (commands, agents, monitors, scheduled wake-ups); it keeps the CLI up.
   */
  background_tasks?: number;
  /**
   * What the project may spend, and spent today.
   */
  budget?: BudgetInfo;
  epoch: number;
  /**
   * The seq of the oldest event kept: 1 unless retention trimmed the log.
   */
  first_seq?: number;
  /**
   * The seq of the project's last stored event.
   */
  head: number;
  id: string;
  name: string;
  /**
   * The cluster node that owns the project: the one that runs its CLI and appends its events (null: a single server, or not owned right now).
   */
  node?: string | null;
  path: string;
  /**
   * The default of the project's runs.
   */
  permission_mode?: ("default" | "acceptEdits" | "plan" | "bypassPermissions" | "dontAsk") | null;
  queued: number;
  /**
   * How much of its log the project keeps.
   */
  retention?: RetentionInfo;
  running_run: string | null;
  session_id: string | null;
  status: "idle" | "running";
  /**
   * Why the project's event log cannot be written now (disk full, I/O error): its runs wait until it can. null: it can.
   */
  store_error?: string | null;
  /**
   * What the project's runs have cost so far, in USD.
   */
  total_cost_usd?: number;
}
/**
 * A project's budgets in force (its own over the server's defaults) and what it
 * spent today.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "BudgetInfo".
 */
export interface BudgetInfo {
  /**
   * What its runs may cost per UTC day; null: no limit.
   */
  daily_usd?: number | null;
  /**
   * The project's own daily budget; null: the server's.
   */
  own_daily_usd?: number | null;
  /**
   * The project's own per-run budget; null: the server's.
   */
  own_run_usd?: number | null;
  /**
   * What one run may cost; null: no limit.
   */
  run_usd?: number | null;
  /**
   * What its runs that ended today (UTC) cost, the runs' own cost; a run counts once it has ended.
   */
  spent_today_usd?: number;
}
/**
 * The retention policy in force for a project (its own over the server's).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "RetentionInfo".
 */
export interface RetentionInfo {
  /**
   * Events older than this are deleted; null: no age limit.
   */
  max_age_seconds?: number | null;
  /**
   * The newest events are kept up to this size (characters of JSON); null: no size limit.
   */
  max_bytes?: number | null;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "RunInfo".
 */
export interface RunInfo {
  /**
   * The name of the token that sent the prompt ("server token" for the server's own); null for a follow-up turn and for runs from before it was kept.
   */
  by?: string | null;
  cost_usd?: number | null;
  created_at: number;
  duration_ms?: number | null;
  error?: string | null;
  finished_at?: number | null;
  id: string;
  num_turns?: number | null;
  /**
   * client: a prompt; claude: a follow-up turn.
   */
  origin?: "client" | "claude";
  project: string;
  prompt: string;
  session_id?: string | null;
  started_at?: number | null;
  state: "queued" | "running" | "completed" | "failed" | "cancelled" | "interrupted";
  usage?: {
    [k: string]: unknown;
  } | null;
}
/**
 * A skill that started and has not ended (an entry of ``running_skills``).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "SkillState".
 */
export interface SkillState {
  /**
   * The index of the last step started.
   */
  current_step: number | null;
  name: string;
  producer: string | null;
  project: string;
  skill_id: string;
  source: string | null;
  started_at: number;
  total_steps: number;
}
/**
 * One task of a project's task list.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TaskInfo".
 */
export interface TaskInfo {
  id: string;
  /**
   * Claude's latest word on it.
   */
  note?: string | null;
  origin: "switchboard" | "todo" | "task";
  /**
   * report_progress: 0 to 100.
   */
  percent?: number | null;
  project: string;
  /**
   * The run that last changed it.
   */
  run?: string | null;
  status: "pending" | "in_progress" | "completed" | "blocked" | "failed";
  title: string;
  updated_at: number;
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Ack".
 */
export interface Ack {
  /**
   * audit.list: newest first.
   */
  audit?: AuditEntry[] | null;
  confirmation?: ConfirmationInfo | null;
  /**
   * subscribe, diagnostics.publish: the project's latest diagnostics, per file.
   */
  diagnostics?: DiagnosticsInfo[] | null;
  /**
   * subscribe: the head seq when it began.
   */
  head?: number | null;
  id: string | number | null;
  /**
   * subscribe: the project's confirmations waiting for an answer.
   */
  pending_confirmations?: ConfirmationInfo[] | null;
  project?: ProjectInfo | null;
  projects?: ProjectInfo[] | null;
  rules?: PermissionRuleInfo[] | null;
  run?: RunInfo | null;
  /**
   * subscribe: the project's skills under way.
   */
  running_skills?: SkillState[] | null;
  /**
   * run.list: newest first.
   */
  runs?: RunInfo[] | null;
  /**
   * token.create: the token itself, shown only this once.
   */
  secret?: string | null;
  /**
   * session.list: newest first.
   */
  sessions?: StoredSessionInfo[] | null;
  /**
   * subscribe: the project's task list.
   */
  tasks?: TaskInfo[] | null;
  token?: TokenInfo | null;
  tokens?: TokenInfo[] | null;
  type?: "ack";
}
/**
 * One prompt, answer or admin change, and whose token did it.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "AuditEntry".
 */
export interface AuditEntry {
  /**
   * The request type, e.g. prompt, token.create.
   */
  action: string;
  at: number;
  /**
   * The token's name ("server token" for the server's own).
   */
  by: string;
  /**
   * What was asked (the request, shortened).
   */
  detail: {
    [k: string]: unknown;
  };
  id: number;
  /**
   * The project's id, when it was about one.
   */
  project: string | null;
  /**
   * The token's id (null: the server's own).
   */
  token_id: string | null;
}
/**
 * A remembered allow rule of a project.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "PermissionRuleInfo".
 */
export interface PermissionRuleInfo {
  created_at: number;
  id: string;
  /**
   * Without rule content: the exact input.
   */
  input: {
    [k: string]: unknown;
  } | null;
  project: string;
  /**
   * The CLI's rule, e.g. the Bash command.
   */
  rule_content: string | null;
  tool_name: string;
}
/**
 * A Claude session the CLI has stored for a project's directory.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "StoredSessionInfo".
 */
export interface StoredSessionInfo {
  /**
   * It is the project's session.
   */
  current: boolean;
  /**
   * The session's first prompt, shortened.
   */
  first_prompt: string | null;
  id: string;
  started_at: number | null;
  updated_at: number;
}
/**
 * A scoped token (its secret is shown only when it is created).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TokenInfo".
 */
export interface TokenInfo {
  created_at: number;
  id: string;
  name: string;
  /**
   * Project ids; null: every project.
   */
  projects: string[] | null;
  scope: "produce" | "agent" | "viewer" | "operator" | "admin";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Error".
 */
export interface Error {
  code:
    | "bad_path"
    | "not_found"
    | "not_a_directory"
    | "access_denied"
    | "system_directory"
    | "duplicate"
    | "nested"
    | "contains"
    | "outside_roots"
    | "bad_json"
    | "bad_message"
    | "unknown_type"
    | "unknown_project"
    | "unknown_run"
    | "name_invalid"
    | "name_taken"
    | "queue_full"
    | "permission_mode_not_allowed"
    | "since_out_of_range"
    | "history_trimmed"
    | "not_subscribed"
    | "nothing_to_cancel"
    | "unknown_confirmation"
    | "already_answered"
    | "invalid_option"
    | "unknown_rule"
    | "unknown_token"
    | "unknown_session"
    | "busy"
    | "forbidden"
    | "too_many_pending"
    | "rate_limited"
    | "shutting_down"
    | "unknown_agent"
    | "agent_offline"
    | "limit_reached"
    | "endpoint_not_allowed"
    | "budget_exceeded"
    | "not_owner"
    | "node_unavailable"
    | "internal";
  /**
   * history_trimmed: the oldest seq the project keeps.
   */
  first_seq?: number | null;
  id?: string | number | null;
  message: string;
  type?: "error";
}
/**
 * Documentation model of the ``event`` frame (sent via :func:`event_frame`).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Event".
 */
export interface Event {
  /**
   * kind cli: the CLI's stream-json line, unchanged; kind imported: a line of a session's stored transcript (session.use), unchanged.
   */
  data: {
    [k: string]: unknown;
  };
  epoch: number;
  kind:
    | "cli"
    | "cli_error"
    | "run"
    | "session"
    | "confirmation"
    | "permission_mode"
    | "skill"
    | "imported"
    | "task"
    | "diff_preview"
    | "notification"
    | "diagnostics";
  project: string;
  run: string | null;
  seq: number;
  type?: "event";
}
/**
 * Documentation model of the ``events`` frame (sent via :func:`events_frame`): a
 * replay's events in order, to a subscription asked with ``batch``.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "EventBatch".
 */
export interface EventBatch {
  events: Event[];
  project: string;
  type?: "events";
}
/**
 * A live-only token delta (the CLI's ``stream_event``): no seq, never stored.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Delta".
 */
export interface Delta {
  data: unknown;
  project: string;
  run: string | null;
  type?: "delta";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "CaughtUp".
 */
export interface CaughtUp {
  project: string;
  seq: number;
  type?: "caught_up";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectStatus".
 */
export interface ProjectStatus {
  project: ProjectInfo;
  type?: "project_status";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProjectRemoved".
 */
export interface ProjectRemoved {
  project: string;
  type?: "project_removed";
}
/**
 * An agent came online, went offline, or was removed (its token revoked).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "AgentStatus".
 */
export interface AgentStatus {
  agent: AgentInfo;
  removed?: boolean;
  type?: "agent_status";
}
/**
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "HeartbeatAck".
 */
export interface HeartbeatAck {
  id?: string | number | null;
  server_time: number;
  type?: "heartbeat_ack";
}
/**
 * To the connection that sent ``confirmation.request``: how it ended.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ConfirmationResult".
 */
export interface ConfirmationResult {
  confirmation_id: string;
  expired: boolean;
  /**
   * The id of the confirmation.request.
   */
  id: string | number | null;
  remember: boolean;
  /**
   * The chosen option, or let_claude when it expired.
   */
  response: string;
  type?: "confirmation_result";
}
/**
 * A live-only frame: Claude started or finished a tool (its hooks).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "Activity".
 */
export interface Activity {
  at: number;
  phase: "started" | "finished" | "failed";
  project: string;
  run: string | null;
  /**
   * What it does, in words: "editing src/app.py".
   */
  summary: string;
  tool: string;
  type?: "activity";
}
/**
 * ``event`` data (kind ``task``): a task was added or changed.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TaskChanged".
 */
export interface TaskChanged {
  task: TaskInfo;
  type?: "task_changed";
}
/**
 * ``event`` data (kind ``task``): a task left the list (Claude deleted it, or
 * rewrote its todo list without it).
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "TaskRemoved".
 */
export interface TaskRemoved {
  task_id: string;
  type?: "task_removed";
}
/**
 * ``event`` data (kind ``task``): report_progress without a task.
 *
 * This interface was referenced by `Protocol`'s JSON-Schema
 * via the `definition` "ProgressReported".
 */
export interface ProgressReported {
  at: number;
  message: string;
  percent?: number | null;
  type?: "progress";
}
