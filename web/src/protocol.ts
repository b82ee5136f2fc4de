// The /ws messages the UI uses (docs/protocol.md has them all).

export interface ProjectInfo {
  id: string;
  name: string;
  path: string;
  session_id: string | null;
  head: number;
  status: "idle" | "running";
  running_run: string | null;
  queued: number;
  permission_mode: string | null;
  /** What its runs have cost so far, in USD. */
  total_cost_usd: number;
  /** Background work its CLI reports still running after its turns: while > 0, Claude
   *  carries on by itself (a run of origin ``claude``) when it finishes. */
  background_tasks: number;
  /** The seq of the oldest event kept: 1 unless a retention policy deleted older ones. */
  first_seq?: number;
  /** Why the project's log cannot be written (a full disk), or null. */
  store_error?: string | null;
}

export interface RunInfo {
  id: string;
  project: string;
  state: "queued" | "running" | "completed" | "failed" | "cancelled" | "interrupted";
  prompt: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  num_turns: number | null;
  cost_usd: number | null;
  usage: Record<string, unknown> | null;
  session_id?: string | null;
  error: string | null;
  /** ``client``: a prompt; ``claude``: a turn the CLI began by itself when background
   *  work finished (its ``prompt`` is ""). Missing from runs logged before it existed. */
  origin?: RunOrigin;
}

export type RunOrigin = "client" | "claude";

/** A Claude session the CLI stored for a project's directory (``session.list``). */
export interface StoredSessionInfo {
  id: string;
  first_prompt: string | null;
  started_at: number | null;
  updated_at: number;
  /** It is the project's ``session_id``. */
  current: boolean;
}

export interface SkillQuestion {
  skill_id: string;
  step_index: number;
  prompt: string;
  claude_suggestion?: string | null;
  producer?: string | null;
}

export interface ConfirmationInfo {
  id: string;
  project: string;
  run?: string | null;
  kind: "tool_permission" | "question" | "plan" | "skill";
  tool_name?: string | null;
  input: Record<string, unknown>;
  suggestions: unknown[];
  skill?: SkillQuestion | null;
  /** kind plan: the plan to approve (from the input, or the plan file Claude wrote). */
  plan?: string | null;
  options: string[];
  timeout_seconds: number;
  remaining_seconds: number;
  paused: boolean;
  created_at: number;
}

export interface Connected {
  type: "connected";
  scope: string;
  projects: ProjectInfo[];
  running_runs: RunInfo[];
  pending_confirmations: ConfirmationInfo[];
}

/** ``imported``: a line of a stored session's transcript, added by ``session.use``. */
export type EventKind = "cli" | "cli_error" | "run" | "session" | "imported" | "permission_mode" | "confirmation" | "skill";

export interface EventMessage {
  type: "event";
  project: string;
  seq: number;
  epoch: number;
  run: string | null;
  kind: EventKind;
  data: any; // a CLI line or an event body: any JSON object
}

export interface DeltaMessage {
  type: "delta";
  project: string;
  run: string | null;
  data: any; // a CLI line or an event body: any JSON object
}

export interface Ack {
  type: "ack";
  id: number;
  project?: ProjectInfo | null;
  run?: RunInfo | null;
  head?: number | null;
  pending_confirmations?: ConfirmationInfo[] | null;
  confirmation?: ConfirmationInfo | null;
  /** ``session.list``: the project's stored sessions, newest first. */
  sessions?: StoredSessionInfo[] | null;
}

export type ServerMessage =
  | Connected
  | Ack
  | EventMessage
  | DeltaMessage
  | { type: "error"; id: number | null; code: string; message: string; first_seq?: number | null }
  | { type: "caught_up"; project: string; seq: number }
  | { type: "project_status"; project: ProjectInfo }
  | { type: "project_removed"; project: string }
  | { type: "heartbeat_ack"; id: number };

export const FINISHED = new Set(["completed", "failed", "cancelled", "interrupted"]);
