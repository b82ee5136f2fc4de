// What is happening in the open project right now, in one line: Claude thinking,
// writing, running a tool (in the words of the back-channel's ``activity`` frames when
// the server sends them: "Editing src/app.py"), the CLI retrying the API, an approval
// waiting, a run waiting in the queue, background work Claude will carry on after, or
// nothing. Derived from what the page receives anyway (the run's CLI events, token
// deltas and activity frames, run events, the pending confirmations, the project's
// status): the server is never asked.

import { clip, h } from "./dom";
import { FINISHED, type ActivityFrame, type ConfirmationInfo, type EventMessage, type RunInfo } from "./wire";
import { toolSummary } from "./tools";

export type ActivityKind = "offline" | "approval" | "retrying" | "tool" | "thinking" | "writing" | "working" | "queued" | "background" | "idle";

export interface Activity {
  kind: ActivityKind;
  text: string;
}

/** A ``system/api_retry`` line of the CLI, and when the page learnt of it. */
export interface ApiRetry {
  attempt: number;
  maxRetries: number;
  delayMs: number;
  error: string;
  status: number | null;
  receivedAt: number;
}

/** The latest sign of life of the running run. */
type Signal =
  | { kind: "working" | "thinking" | "writing" }
  | { kind: "tool"; name: string; detail: string }
  | { kind: "doing"; summary: string }
  | { kind: "retrying"; retry: ApiRetry };

const WORKING: Signal = { kind: "working" };

export function apiRetry(data: any, receivedAt: number): ApiRetry {
  return {
    attempt: Number(data.attempt ?? 0),
    maxRetries: Number(data.max_retries ?? 0),
    delayMs: Number(data.retry_delay_ms ?? 0),
    error: String(data.error ?? "error"),
    status: typeof data.error_status === "number" ? data.error_status : null,
    receivedAt,
  };
}

/** "overloaded (529)": what the API answered. */
export function retryError(retry: ApiRetry): string {
  return retry.status === null ? retry.error : `${retry.error} (${retry.status})`;
}

/** Follows one project's running run through its events and deltas. */
export class ActivityTracker {
  private run: string | null = null;
  private signal: Signal = WORKING;
  /** Tools Claude called whose results have not come back, by tool_use id. */
  private readonly tools = new Map<string, { name: string; detail: string }>();
  /** What the tool under way does, in words (an ``activity`` frame that started). */
  private doing: string | null = null;

  reset(): void {
    this.run = null;
    this.signal = WORKING;
    this.tools.clear();
    this.doing = null;
  }

  /** An event of the project's log, in seq order (a replayed history included). */
  onEvent(event: EventMessage, now: number = Date.now()): void {
    if (event.run === null) return;
    if (event.kind === "run") {
      const run = event.data as RunInfo;
      if (run.state === "running" && run.id !== this.run) this.begin(run.id);
      else if (FINISHED.has(run.state) && run.id === this.run) this.reset();
      return;
    }
    if (event.kind !== "cli") return;
    if (event.run !== this.run) this.begin(event.run);
    const data = event.data;
    if (data.type === "system" && data.subtype === "api_retry") {
      this.signal = { kind: "retrying", retry: apiRetry(data, now) };
    } else if (data.type === "assistant") {
      // Text and thinking blocks end what the deltas showed; a tool call starts a tool.
      const calls = (data.message?.content ?? []).filter((block: any) => block?.type === "tool_use");
      for (const call of calls) {
        this.tools.set(String(call.id), { name: String(call.name), detail: toolSummary(String(call.name), call.input ?? {}) });
      }
      if (calls.length > 0) this.signal = this.afterTools();
    } else if (data.type === "user") {
      for (const block of data.message?.content ?? []) {
        if (block?.type === "tool_result") this.tools.delete(String(block.tool_use_id));
      }
      this.signal = this.afterTools();
      this.doing = null;
    } else if (data.type === "system" && data.subtype === "status") {
      this.signal = this.afterTools();
    }
  }

  /** A live token delta (a ``stream_event`` line) of the run. */
  onDelta(run: string | null, data: any): void {
    if (run === null) return;
    if (run !== this.run) this.begin(run);
    const event = data?.event ?? {};
    if (event.type === "content_block_start") {
      const block = event.content_block ?? {};
      if (block.type === "thinking" || block.type === "redacted_thinking") this.signal = { kind: "thinking" };
      else if (block.type === "text") this.signal = { kind: "writing" };
      else if (block.type === "tool_use") this.signal = { kind: "tool", name: String(block.name), detail: "" };
    } else if (event.type === "content_block_delta") {
      const type = event.delta?.type;
      if (type === "thinking_delta") this.signal = { kind: "thinking" };
      else if (type === "text_delta") this.signal = { kind: "writing" };
    } else if (event.type === "message_start") {
      this.signal = WORKING;
      this.doing = null;
    }
  }

  /** A live ``activity`` frame: a tool of Claude's started or ended (its hooks). */
  onActivity(frame: ActivityFrame): void {
    if (frame.run !== null && frame.run !== this.run) this.begin(frame.run);
    this.doing = frame.phase === "started" && frame.summary ? frame.summary : null;
  }

  /** What the run does, if it is ``run``: null when nothing is known of it. A tool's
   *  activity in words says more than its name and input. */
  signalOf(run: string): Signal | null {
    if (run !== this.run) return null;
    if (this.doing !== null && (this.signal.kind === "tool" || this.signal.kind === "working")) return { kind: "doing", summary: this.doing };
    return this.signal;
  }

  private begin(run: string): void {
    this.reset();
    this.run = run;
  }

  private afterTools(): Signal {
    const last = [...this.tools.values()].pop();
    return last === undefined ? WORKING : { kind: "tool", ...last };
  }
}

export interface ActivityState {
  online: boolean;
  runs: Iterable<RunInfo>;
  /** The project's pending confirmations. */
  pending: ConfirmationInfo[];
  tracker: ActivityTracker;
  /** The project's ``background_tasks``: work its CLI goes on with after the turn. */
  backgroundTasks?: number;
  now?: number;
}

/** The line to show, most pressing first: offline, an approval, the running run, the
 *  queue, background work. */
export function describeActivity(state: ActivityState): Activity {
  if (!state.online) return { kind: "offline", text: "Offline: waiting for the connection" };
  const asked = [...state.pending].sort((a, b) => a.created_at - b.created_at)[0];
  if (asked !== undefined) return { kind: "approval", text: waitingFor(asked) };
  const runs = [...state.runs];
  const running = runs.find((run) => run.state === "running");
  if (running !== undefined) return describeSignal(state.tracker.signalOf(running.id) ?? WORKING, state.now ?? Date.now());
  const queued = runs.filter((run) => run.state === "queued").length;
  if (queued > 0) return { kind: "queued", text: `Waiting in the queue: ${queued} run${queued === 1 ? "" : "s"}` };
  const background = state.backgroundTasks ?? 0;
  if (background > 0) {
    const tasks = background === 1 ? "1 background task" : `${background} background tasks`;
    return { kind: "background", text: `${tasks} running; Claude will carry on when ${background === 1 ? "it finishes" : "they finish"}` };
  }
  return { kind: "idle", text: "Idle" };
}

function describeSignal(signal: Signal, now: number): Activity {
  switch (signal.kind) {
    case "thinking":
      return { kind: "thinking", text: "Claude is thinking…" };
    case "writing":
      return { kind: "writing", text: "Claude is writing…" };
    case "tool":
      return { kind: "tool", text: signal.detail ? `Running ${signal.name}: ${clip(signal.detail, 80)}` : `Preparing ${signal.name}…` };
    case "doing":
      return { kind: "tool", text: clip(signal.summary.charAt(0).toUpperCase() + signal.summary.slice(1), 100) };
    case "retrying": {
      const { retry } = signal;
      const left = Math.max(0, Math.ceil((retry.delayMs - (now - retry.receivedAt)) / 1000));
      const when = left > 0 ? `in ${left} s` : "now";
      return { kind: "retrying", text: `Retrying the API ${when}, attempt ${retry.attempt} of ${retry.maxRetries}: ${retryError(retry)}` };
    }
    default:
      return { kind: "working", text: "Claude is working…" };
  }
}

function waitingFor(asked: ConfirmationInfo): string {
  switch (asked.kind) {
    case "question":
      return "Waiting for your answer to Claude's question";
    case "plan":
      return "Waiting for your approval of Claude's plan";
    case "approval":
      return "Waiting for your approval of Claude's changes";
    case "skill":
      return `Waiting for your answer: ${asked.skill?.skill_id ?? "a skill"} asks ${clip(asked.skill?.prompt ?? "", 80)}`;
    default: {
      const tool = asked.tool_name ?? "a tool";
      const detail = clip(toolSummary(tool, asked.input ?? {}), 80);
      return `Waiting for your approval to use ${tool}${detail ? `: ${detail}` : ""}`;
    }
  }
}

/** The line itself; it changes the page only when what it says changes. */
export class ActivityLine {
  readonly element = h("div", { class: "activity", role: "status", "aria-live": "polite" });

  show(activity: Activity | null): void {
    this.element.hidden = activity === null;
    if (activity === null) return;
    if (this.element.dataset.activity !== activity.kind) this.element.dataset.activity = activity.kind;
    if (this.element.textContent !== activity.text) this.element.textContent = activity.text;
  }
}
