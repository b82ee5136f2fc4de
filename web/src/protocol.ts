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
  error: string | null;
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

export interface EventMessage {
  type: "event";
  project: string;
  seq: number;
  epoch: number;
  run: string | null;
  kind: string;
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
}

export type ServerMessage =
  | Connected
  | Ack
  | EventMessage
  | DeltaMessage
  | { type: "error"; id: number | null; code: string; message: string }
  | { type: "caught_up"; project: string; seq: number }
  | { type: "project_status"; project: ProjectInfo }
  | { type: "project_removed"; project: string }
  | { type: "heartbeat_ack"; id: number };

export const FINISHED = new Set(["completed", "failed", "cancelled", "interrupted"]);
