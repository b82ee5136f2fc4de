// One project's conversation, built from its events in seq order: a block per run
// (prompt, Claude's text and tool cards, a summary), notes for everything else, and
// the text Claude is typing right now from the live deltas. Each event is applied at
// most once (by seq), so replays after a reconnect never show a message twice. It also
// keeps track of what the running run is doing (``activity``), for the activity line.
//
// A replay is collected first and built in one go when it has caught up, so a page
// never shows half a history. Only the newest runs are built in full then; older runs
// get their prompt and summary at once and their body (text, tool cards, diffs) when
// scrolled near: opening a session of a thousand runs costs about what fifty do.
//
// A run Claude began by itself (origin ``claude``) is headed by what woke it, in words,
// not by a prompt; a session's history imported by ``session.use`` is shown as a
// conversation of its own (imported.ts).

import { ActivityTracker, apiRetry } from "./activity";
import { answerLine, expiryLine } from "./answered";
import { appendAssistant, applyToolResults } from "./content";
import { h } from "./dom";
import { ImportedHistory } from "./imported";
import { apiErrorText, carriedOnLine, confirmationLine, isApiErrorMessage, retryLine, skillLine } from "./notes";
import { diffPreviewBlock, notificationNote } from "./reports";
import { FINISHED, type ConfirmationInfo, type DiffPreview, type EventMessage, type NotificationEvent, type RunInfo } from "./wire";
import type { ToolCard } from "./tools";

/** Runs built in full when a replay has caught up (more than a screen holds); older
 *  ones wait until scrolled near, or for idle time. */
export const EAGER_RUNS = 10;
/** One formatter for every count: ``toLocaleString`` makes one per call, and a history
 *  formats two for each of its run events. */
const COUNT = new Intl.NumberFormat();
/** How far outside the visible part of the conversation a waiting run body is built. */
const BUILD_MARGIN = "1500px 0px";
/** Idle time (ms) left unused when building waiting runs in the background. */
const IDLE_RESERVE_MS = 4;
/** Where the browser has no requestIdleCallback (Safari): a slice of this many ms. */
const FALLBACK_SLICE_MS = 10;

type IdleTask = (deadline: { timeRemaining(): number }) => void;

/** Run ``task`` when the page is idle; returns a function that cancels it. */
function whenIdle(task: IdleTask): () => void {
  if (typeof window.requestIdleCallback === "function") {
    const handle = window.requestIdleCallback(task);
    return () => window.cancelIdleCallback(handle);
  }
  const handle = window.setTimeout(() => {
    const until = performance.now() + FALLBACK_SLICE_MS;
    task({ timeRemaining: () => Math.max(0, until - performance.now()) });
  }, 50);
  return () => window.clearTimeout(handle);
}

interface RunBlock {
  element: HTMLElement;
  prompt: HTMLElement;
  state: HTMLElement;
  body: HTMLElement;
  /** Why the run did not complete, unless its body already says it. */
  error: HTMLElement;
  summary: HTMLElement;
  /** The API errors the body shows (the CLI's reports of them in Claude's name). */
  errorsShown: Set<string>;
}

export function runSummary(run: RunInfo): string {
  const parts: string[] = [run.state];
  if (run.duration_ms !== null) parts.push(`${(run.duration_ms / 1000).toFixed(1)} s`);
  if (run.num_turns !== null) parts.push(`${run.num_turns} turn${run.num_turns === 1 ? "" : "s"}`);
  if (run.cost_usd !== null) parts.push(`$${run.cost_usd.toFixed(4)}`);
  const usage = run.usage ?? {};
  const tokensIn = Number(usage.input_tokens ?? 0) + Number(usage.cache_read_input_tokens ?? 0);
  const tokensOut = Number(usage.output_tokens ?? 0);
  if (tokensIn || tokensOut) parts.push(`${COUNT.format(tokensIn)} in / ${COUNT.format(tokensOut)} out tokens`);
  return parts.join(" · ");
}

export class Conversation {
  readonly element: HTMLElement;
  lastSeq = 0;
  /** The replay has caught up: events are shown as they come (set by ``finishHistory``). */
  caughtUp = false;
  /** A subscribe is under way: what arrives before its ack is left over from before. */
  awaitingAck = false;
  /** The project's head when the subscription began: events up to it are history. */
  ackHead = 0;
  readonly runs = new Map<string, RunInfo>();
  /** What the running run is doing, from its events and deltas. */
  readonly activity = new ActivityTracker();
  private readonly blocks = new Map<string, RunBlock>();
  private readonly tools = new Map<string, ToolCard>();
  /** The kind of each confirmation asked (its answer's note words it). */
  private readonly asked = new Map<string, ConfirmationInfo["kind"]>();
  private live: { run: string | null; element: HTMLElement } | null = null;
  /** What finished, by run: the summaries of the ``task_notification`` lines of each run
   *  (those of a run Claude began by itself head it). */
  private readonly notified = new Map<string, string[]>();
  /** The latest session imported by ``session.use``: its ``imported`` lines go there. */
  private imported: ImportedHistory | null = null;
  /** Events of the replay under way, built by ``finishHistory``. */
  private history: EventMessage[] = [];
  /** Body events of runs not built yet, by run id. */
  private readonly waiting = new Map<string, EventMessage[]>();
  private readonly nearby: IntersectionObserver;
  private cancelIdle: (() => void) | null = null;

  /** ``scroller`` is the element the conversation scrolls in; ``answeredHere`` knows
   *  the confirmations this browser answered (their notes say "you"). */
  constructor(
    readonly projectId: string,
    scroller: HTMLElement,
    private readonly answeredHere: { has(id: string): boolean },
  ) {
    this.element = h("div", { class: "conversation loading", "data-project": projectId });
    this.nearby = new IntersectionObserver((entries) => this.buildNearby(entries), {
      root: scroller,
      rootMargin: BUILD_MARGIN,
    });
  }

  /** Forget everything (before a full replay). */
  reset(): void {
    this.dispose();
    this.element.replaceChildren();
    delete this.element.dataset.lastSeq;
    this.element.classList.add("loading");
    this.lastSeq = 0;
    this.caughtUp = false;
    this.ackHead = 0;
    this.runs.clear();
    this.blocks.clear();
    this.tools.clear();
    this.asked.clear();
    this.notified.clear();
    this.imported = null;
    this.activity.reset();
    this.live = null;
    this.history = [];
  }

  /** Start over after a retention policy deleted events up to ``firstSeq - 1``: say so
   *  at the top, and take the events from ``firstSeq`` on. */
  restartAfterTrimmed(firstSeq: number): void {
    this.reset();
    this.lastSeq = firstSeq - 1;
    this.element.append(
      h(
        "p",
        { class: "note divider trimmed", role: "note" },
        `Older history (events 1–${firstSeq - 1}) was deleted by this project's retention policy.`,
      ),
    );
  }

  /** Stop building waiting runs (the conversation is reset or dropped). */
  dispose(): void {
    this.waiting.clear();
    this.nearby.disconnect();
    this.cancelIdle?.();
    this.cancelIdle = null;
  }

  /** A new replay begins: collect what it brings until ``finishHistory``. */
  startHistory(): void {
    this.caughtUp = false;
  }

  /** Take one event; false when it was taken before. */
  apply(event: EventMessage): boolean {
    if (event.seq <= this.lastSeq) return false;
    this.lastSeq = event.seq;
    if (event.kind === "run") this.runs.set((event.data as RunInfo).id, event.data as RunInfo);
    if (event.kind === "cli" && event.run !== null && event.data?.subtype === "task_notification") {
      this.onNotification(event.run, event.data);
    }
    this.activity.onEvent(event);
    if (!this.caughtUp) {
      this.history.push(event);
      return true;
    }
    this.show(event);
    this.element.dataset.lastSeq = String(event.seq);
    return true;
  }

  /** The replay has caught up: build what it brought (older runs' bodies wait). */
  finishHistory(): void {
    const events = this.history;
    this.history = [];
    const fresh = new Set<string>(); // runs new to this page, in order
    for (const event of events) {
      if (event.kind === "run" && event.run !== null && !this.blocks.has(event.run)) fresh.add(event.run);
    }
    const newest = [...fresh];
    const later = new Set(newest.slice(0, Math.max(0, newest.length - EAGER_RUNS)));
    for (const event of events) {
      if (event.run !== null && event.kind !== "run" && later.has(event.run)) {
        const list = this.waiting.get(event.run) ?? [];
        list.push(event);
        this.waiting.set(event.run, list);
      } else {
        this.show(event);
      }
    }
    for (const run of later) {
      const block = this.blocks.get(run);
      if (block !== undefined && this.waiting.has(run)) {
        block.element.dataset.waiting = "";
        this.nearby.observe(block.element);
      }
    }
    this.element.dataset.lastSeq = String(this.lastSeq);
    this.element.classList.remove("loading");
    this.caughtUp = true;
    if (this.waiting.size > 0 && this.cancelIdle === null) {
      this.cancelIdle = whenIdle((idle) => this.buildWhileIdle(idle));
    }
  }

  /** Build waiting runs, newest first, while the page has nothing else to do, so that
   *  scrolling back later finds them ready. */
  private buildWhileIdle(idle: { timeRemaining(): number }): void {
    this.cancelIdle = null;
    const runs = [...this.waiting.keys()].reverse();
    for (const run of runs) {
      if (idle.timeRemaining() < IDLE_RESERVE_MS) break;
      this.build(run);
    }
    if (this.waiting.size > 0) this.cancelIdle = whenIdle((next) => this.buildWhileIdle(next));
  }

  private buildNearby(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const run = (entry.target as HTMLElement).dataset.run;
      if (entry.isIntersecting && run !== undefined) this.build(run);
    }
  }

  /** Build a waiting run's body from its events. */
  private build(run: string): void {
    const events = this.waiting.get(run);
    if (events === undefined) return;
    this.waiting.delete(run);
    const block = this.blocks.get(run);
    if (block !== undefined) {
      this.nearby.unobserve(block.element);
      delete block.element.dataset.waiting;
    }
    for (const event of events) this.show(event);
  }

  private show(event: EventMessage): void {
    // Anything new for a run still waiting (a tool result, a note): build it first.
    if (event.kind !== "run" && event.run !== null) this.build(event.run);
    const data = event.data;
    switch (event.kind) {
      case "run":
        this.onRun(data as RunInfo, event.seq);
        break;
      case "cli":
        this.onCli(event);
        break;
      case "cli_error":
        this.note(event, "warning", `! ${String(data.error ?? "a line could not be read")}`);
        break;
      case "session":
        if (data.reason === "session.use") {
          this.imported = new ImportedHistory(data, event.seq, this.tools);
          this.element.appendChild(this.imported.element);
        } else {
          this.imported = null;
          this.note(event, "divider", "A new session starts here");
        }
        break;
      case "imported":
        if (this.imported === null) {
          this.imported = new ImportedHistory({}, event.seq, this.tools); // its session event is not in this log
          this.element.appendChild(this.imported.element);
        }
        this.imported.add(data, event.seq);
        break;
      case "permission_mode":
        this.note(event, "info", `Permission mode: ${data.mode ?? "default"}`);
        break;
      case "confirmation":
        this.onConfirmation(event);
        break;
      case "skill":
        this.note(event, "skill", skillLine(data));
        break;
      case "diff_preview":
        this.bodyOf(event.run).appendChild(diffPreviewBlock(data as DiffPreview, event.seq));
        break;
      case "notification":
        this.bodyOf(event.run).appendChild(notificationNote(data as NotificationEvent, event.seq));
        break;
      default: // task and diagnostics: the panels beside the conversation show them
        break;
    }
  }

  /** A live token delta: show what Claude is typing, replaced by the full message. */
  delta(run: string | null, data: { event?: { type?: string; delta?: { type?: string; text?: string } } }): void {
    this.activity.onDelta(run, data);
    const event = data.event ?? {};
    if (event.type === "message_start") {
      this.dropLive();
      return;
    }
    if (event.type !== "content_block_delta" || event.delta?.type !== "text_delta") return;
    if (this.live === null || this.live.run !== run) {
      this.dropLive();
      const element = h("div", { class: "assistant live" });
      this.bodyOf(run).appendChild(element);
      this.live = { run, element };
    }
    this.live.element.append(event.delta.text ?? ""); // a text node per piece: no re-copying
  }

  private dropLive(): void {
    this.live?.element.remove();
    this.live = null;
  }

  /** Background work finished (seen in every event, so that a run's head says so also
   *  while its body waits to be built). */
  private onNotification(run: string, data: { summary?: unknown; status?: unknown }): void {
    const summaries = this.notified.get(run) ?? [];
    summaries.push(String(data.summary ?? data.status ?? "background work finished"));
    this.notified.set(run, summaries);
    const block = this.blocks.get(run);
    const info = this.runs.get(run);
    if (block !== undefined && info !== undefined) this.head(block, info);
  }

  /** A run's head: its prompt, or what made Claude carry on by itself. */
  private head(block: RunBlock, run: RunInfo): void {
    if (run.origin === "claude") {
      block.element.dataset.origin = "claude";
      block.prompt.textContent = carriedOnLine(this.notified.get(run.id) ?? []);
    } else {
      block.prompt.textContent = run.prompt;
    }
  }

  private onRun(run: RunInfo, seq: number): void {
    const block = this.blockOf(run.id, run.prompt, seq);
    this.head(block, run);
    block.state.textContent = run.state;
    block.element.dataset.state = run.state;
    if (FINISHED.has(run.state)) {
      if (this.live?.run === run.id) this.dropLive();
      block.summary.textContent = runSummary(run);
      block.summary.hidden = false;
      const error = run.error?.trim() ?? "";
      const shown = error !== "" && !block.errorsShown.has(error);
      block.error.textContent = shown ? error : "";
      block.error.hidden = !shown;
    }
  }

  private onCli(event: EventMessage): void {
    const data = event.data;
    if (data.type === "assistant" && isApiErrorMessage(data)) {
      // The CLI's report of an API error, in Claude's name: shown as the error it is.
      if (this.live?.run === event.run) this.dropLive();
      const text = apiErrorText(data);
      this.note(event, "api-error", text);
      if (event.run !== null) {
        const block = this.blockOf(event.run, null, null);
        block.errorsShown.add(text);
        if (block.error.textContent === text) {
          block.error.textContent = ""; // said on its own line until this body was built
          block.error.hidden = true;
        }
      }
    } else if (data.type === "assistant") {
      if (this.live?.run === event.run) this.dropLive();
      appendAssistant(this.bodyOf(event.run), data.message?.content, event.seq, this.tools);
    } else if (data.type === "user") {
      applyToolResults(data.message?.content, this.tools);
    } else if (data.type === "system" && data.subtype === "api_retry") {
      this.retryNote(event);
    }
  }

  /** The CLI retries the API: one quiet line, updated by the attempts that follow it. */
  private retryNote(event: EventMessage): void {
    const text = `↻ ${retryLine(apiRetry(event.data, Date.now()))}`;
    const last = this.bodyOf(event.run).lastElementChild as HTMLElement | null;
    if (last?.classList.contains("retry")) {
      last.textContent = text;
      last.dataset.seq = String(event.seq);
    } else {
      this.note(event, "retry", text);
    }
  }

  private onConfirmation(event: EventMessage): void {
    const data = event.data;
    if (data.type === "confirmation_required") {
      const asked = data.confirmation as ConfirmationInfo;
      this.asked.set(asked.id, asked.kind);
      this.note(event, "confirmation", `? ${confirmationLine(asked)}`).dataset.confirmation = asked.id;
    } else if (data.type === "confirmation_answered") {
      const denied = data.response === "deny" || data.response === "reject";
      const line = answerLine(this.asked.get(data.confirmation_id), data, this.answeredHere.has(data.confirmation_id));
      const note = this.note(event, denied ? "denied" : "answered", `${denied ? "✗" : "✓"} ${line}`);
      note.dataset.confirmation = data.confirmation_id;
    } else if (data.type === "confirmation_expired") {
      const line = expiryLine(data.reason, data.fallback, this.asked.get(data.confirmation_id));
      this.note(event, "denied", `✗ ${line}`).dataset.confirmation = data.confirmation_id;
    }
  }

  private note(event: EventMessage, kind: string, text: string): HTMLElement {
    const element = h("div", { class: `note ${kind}`, "data-seq": event.seq }, text);
    this.bodyOf(event.run).appendChild(element);
    return element;
  }

  private bodyOf(run: string | null): HTMLElement {
    if (run === null) return this.element;
    return this.blockOf(run, null, null).body;
  }

  private blockOf(runId: string, prompt: string | null, seq: number | null): RunBlock {
    const known = this.blocks.get(runId);
    if (known !== undefined) return known;
    const promptText = h("div", { class: "prompt-text" }, prompt ?? "(earlier prompt)");
    const state = h("span", { class: "run-state" }, "");
    const body = h("div", { class: "run-body" });
    const error = h("div", { class: "run-error", hidden: true });
    const summary = h("div", { class: "run-summary", hidden: true });
    const element = h(
      "section",
      { class: "run", "data-run": runId, "data-seq": seq },
      h("div", { class: "prompt" }, state, promptText),
      body,
      error,
      summary,
    );
    this.element.appendChild(element);
    const block = { element, prompt: promptText, state, body, error, summary, errorsShown: new Set<string>() };
    this.blocks.set(runId, block);
    return block;
  }
}
