// Presence: tell the server which projects this page shows a person, so that it pushes
// no alert about them (push.ts, and the server's --notify-url). The server never
// assumes a person from an open connection: the page reports only while it is visible
// and has the focus, again every third of the server's push_idle_seconds, and withdraws
// the report (visible: false) as soon as it is hidden or loses the focus. The page lists
// every project in its sidebar (status and approvals), so it reports them all, the open
// one first.

import type { Ack, RequestFields, RequestType } from "./wire";

export type RequestSend = <T extends RequestType>(type: T, fields: RequestFields<T>) => Promise<Ack>;

const MAX_PROJECTS = 256; // the protocol's limit for one report
const MIN_REFRESH_MS = 5_000;
const MAX_REFRESH_MS = 60_000;

export class PresenceReporter {
  private refreshMs = 20_000;
  private timer: number | null = null;
  private reported = false;
  private lastShown = "";
  private online = false;

  constructor(
    private readonly request: RequestSend,
    /** The projects the page shows, the open one first. */
    private readonly shown: () => string[],
  ) {
    document.addEventListener("visibilitychange", () => this.update());
    window.addEventListener("focus", () => this.update());
    window.addEventListener("blur", () => this.update());
  }

  /** Connected (again): a new connection has reported nothing yet. */
  connected(idleSeconds: number): void {
    this.online = true;
    this.reported = false;
    this.refreshMs = Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, (idleSeconds * 1000) / 3));
    this.stopTimer();
    this.update();
  }

  disconnected(): void {
    this.online = false;
    this.reported = false;
    this.stopTimer();
  }

  /** The projects may have changed: a report that stands is brought up to date. */
  projectsChanged(): void {
    if (this.reported && this.shown().slice(0, MAX_PROJECTS).join(" ") !== this.lastShown) this.report(true);
  }

  private update(): void {
    if (!this.online) return;
    const showing = document.visibilityState === "visible" && document.hasFocus();
    if (showing) {
      this.report(true);
      if (this.timer === null) this.timer = window.setInterval(() => this.report(true), this.refreshMs);
    } else {
      this.stopTimer();
      if (this.reported) this.report(false);
    }
  }

  private report(visible: boolean): void {
    this.reported = visible;
    const projects = visible ? this.shown().slice(0, MAX_PROJECTS) : [];
    this.lastShown = projects.join(" ");
    this.request("presence", { projects, visible }).catch(() => undefined); // offline: the next connection reports again
  }

  private stopTimer(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  }
}
