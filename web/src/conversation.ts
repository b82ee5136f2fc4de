// One project's conversation, built from its events in seq order: a block per run
// (prompt, Claude's text and tool cards, a summary), notes for everything else, and
// the text Claude is typing right now from the live deltas. Each event is applied at
// most once (by seq), so replays after a reconnect never show a message twice.
//
// A replay is collected first and built in one go when it has caught up, so a page
// never shows half a history. Only the newest runs are built in full then; older runs
// get their prompt and summary at once and their body (text, tool cards, diffs) when
// scrolled near: opening a session of a thousand runs costs about what fifty do.

import { clip, h } from "./dom";
import { markdown } from "./markdown";
import { FINISHED, type ConfirmationInfo, type EventMessage, type RunInfo } from "./protocol";
import { ToolCard, toolSummary } from "./tools";

/** Runs built in full when a replay has caught up; older ones wait until scrolled near. */
export const EAGER_RUNS = 30;
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
  summary: HTMLElement;
}

export function runSummary(run: RunInfo): string {
  const parts: string[] = [run.state];
  if (run.duration_ms !== null) parts.push(`${(run.duration_ms / 1000).toFixed(1)} s`);
  if (run.num_turns !== null) parts.push(`${run.num_turns} turn${run.num_turns === 1 ? "" : "s"}`);
  if (run.cost_usd !== null) parts.push(`$${run.cost_usd.toFixed(4)}`);
  const usage = run.usage ?? {};
  const tokensIn = Number(usage.input_tokens ?? 0) + Number(usage.cache_read_input_tokens ?? 0);
  const tokensOut = Number(usage.output_tokens ?? 0);
  if (tokensIn || tokensOut) parts.push(`${tokensIn.toLocaleString()} in / ${tokensOut.toLocaleString()} out tokens`);
  if (run.error) parts.push(run.error);
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
  private readonly blocks = new Map<string, RunBlock>();
  private readonly tools = new Map<string, ToolCard>();
  private live: { run: string | null; element: HTMLElement } | null = null;
  /** Events of the replay under way, built by ``finishHistory``. */
  private history: EventMessage[] = [];
  /** Body events of runs not built yet, by run id. */
  private readonly waiting = new Map<string, EventMessage[]>();
  private readonly nearby: IntersectionObserver;
  private cancelIdle: (() => void) | null = null;

  /** ``scroller`` is the element the conversation scrolls in; ``answeredHere`` holds
   *  the confirmations this tab answered (their notes say so). */
  constructor(
    readonly projectId: string,
    scroller: HTMLElement,
    private readonly answeredHere: ReadonlySet<string>,
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
    this.live = null;
    this.history = [];
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
        this.note(event, "divider", "A new session starts here");
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
      default:
        break;
    }
  }

  /** A live token delta: show what Claude is typing, replaced by the full message. */
  delta(run: string | null, data: { event?: { type?: string; delta?: { type?: string; text?: string } } }): void {
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

  private onRun(run: RunInfo, seq: number): void {
    const block = this.blockOf(run.id, run.prompt, seq);
    block.prompt.textContent = run.prompt;
    block.state.textContent = run.state;
    block.element.dataset.state = run.state;
    if (FINISHED.has(run.state)) {
      if (this.live?.run === run.id) this.dropLive();
      block.summary.textContent = runSummary(run);
      block.summary.hidden = false;
    }
  }

  private onCli(event: EventMessage): void {
    const data = event.data;
    if (data.type === "assistant") {
      if (this.live?.run === event.run) this.dropLive();
      const body = this.bodyOf(event.run);
      for (const block of data.message?.content ?? []) {
        if (block.type === "text" && block.text) {
          const text = markdown(String(block.text));
          text.classList.add("assistant");
          text.dataset.seq = String(event.seq);
          body.appendChild(text);
        } else if (block.type === "tool_use") {
          const card = new ToolCard({ id: block.id, name: block.name, input: block.input ?? {} });
          card.element.dataset.seq = String(event.seq);
          this.tools.set(block.id, card);
          body.appendChild(card.element);
        } else if (block.type === "thinking" && block.thinking) {
          body.appendChild(
            h("details", { class: "thinking", "data-seq": event.seq }, h("summary", {}, "Thinking"), h("pre", {}, String(block.thinking))),
          );
        }
      }
    } else if (data.type === "user") {
      for (const block of data.message?.content ?? []) {
        if (block?.type === "tool_result") {
          this.tools.get(block.tool_use_id)?.setResult(block.content, Boolean(block.is_error));
        }
      }
    }
  }

  private onConfirmation(event: EventMessage): void {
    const data = event.data;
    if (data.type === "confirmation_required") {
      const asked = data.confirmation as ConfirmationInfo;
      this.note(event, "confirmation", `? ${confirmationLine(asked)}`).dataset.confirmation = asked.id;
    } else if (data.type === "confirmation_answered") {
      const by = data.by === "rule" ? "by a remembered rule" : "by a client";
      const message = data.message ? `: ${data.message}` : "";
      const kind = data.response === "deny" ? "denied" : "answered";
      const here = this.answeredHere.has(data.confirmation_id) ? " · answered in this tab" : "";
      this.note(event, kind, `${data.response === "deny" ? "✗" : "✓"} ${data.response} (${by})${message}${here}`).dataset.confirmation =
        data.confirmation_id;
    } else if (data.type === "confirmation_expired") {
      this.note(event, "denied", `✗ no answer (${data.reason}): ${data.fallback}`).dataset.confirmation = data.confirmation_id;
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
    const summary = h("div", { class: "run-summary", hidden: true });
    const element = h(
      "section",
      { class: "run", "data-run": runId, "data-seq": seq },
      h("div", { class: "prompt" }, promptText, state),
      body,
      summary,
    );
    this.element.appendChild(element);
    const block = { element, prompt: promptText, state, body, summary };
    this.blocks.set(runId, block);
    return block;
  }
}

/** What a confirmation asks, in one line (the conversation's note, a notification). */
export function confirmationLine(asked: ConfirmationInfo): string {
  switch (asked.kind) {
    case "skill":
      return `${asked.skill?.skill_id} asks: ${asked.skill?.prompt}`;
    case "question":
      return "Claude asks a question";
    case "plan":
      return "Claude asks to approve its plan";
    default:
      return `Claude asks to use ${asked.tool_name}: ${clip(toolSummary(asked.tool_name ?? "", asked.input ?? {}), 100)}`;
  }
}

/** One line per skill event (seed 003); ``data`` is the event as a producer sent it. */
export function skillLine(data: any): string {
  const skill = data.skill_id;
  const step = `${skill} step ${data.step_index}${data.name ? ` ${data.name}` : ""}`;
  const took = typeof data.duration_ms === "number" ? ` (${data.duration_ms} ms)` : "";
  switch (data.type) {
    case "skill_started":
      return `Skill ${skill} (${data.name}) started, ${data.total_steps} steps`;
    case "skill_completed":
      return `Skill ${skill} completed${took}`;
    case "skill_failed":
      return `Skill ${skill} failed: ${data.error}`;
    case "step_started":
      return `${step} started`;
    case "step_completed":
      return `${step} done${took}`;
    case "step_failed":
      return `${step} failed: ${data.error}`;
    case "auto_heal_triggered":
      return `Auto-heal ${data.heal_type} for ${skill}: ${data.action}`;
    case "auto_heal_completed":
      return `Auto-heal for ${skill} ${data.success ? "succeeded" : "failed"}`;
    case "memory_query_started":
      return `Memory query: ${clip(String(data.query), 80)}`;
    case "memory_query_completed":
      return `Memory query ${data.query_id}: ${data.result_count ?? 0} results`;
    case "intent_classified":
      return `Intent: ${data.intent}`;
    default:
      return String(data.type);
  }
}
