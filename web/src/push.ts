// Web Push, opted into per browser. The button registers the service worker (/sw.js),
// asks the browser's push service for a subscription made with the server's VAPID key
// (``push_public_key`` in the ``connected`` snapshot) and sends it to the server
// (``push.subscribe``); pressed again, it unsubscribes. The server then pushes
// questions, confirmations and runs' ends while no page shows their project
// (presence.ts). The service worker shows each alert; a click on one brings this page to
// the front at its project (a message), or opens the page (``#project=ID``).

import type { RequestSend } from "./presence";
import { h } from "./dom";

type PushState = "unsupported" | "off" | "on" | "blocked" | "busy";

const LABELS: Record<PushState, string> = {
  unsupported: "Push",
  off: "Push: off",
  on: "Push: on",
  blocked: "Push: blocked",
  busy: "Push…",
};
const TITLES: Record<PushState, string> = {
  unsupported: "",
  off: "Have this browser notified of questions and finished runs while no Switchboard page shows them",
  on: "This browser is notified of questions and finished runs while no Switchboard page shows them; press to stop",
  blocked: "Notifications are blocked for this site: allow them in the browser's site settings",
  busy: "",
};

/** Whether this browser can take pushes here (a service worker needs a secure context:
 *  https, or http on localhost). */
function supported(): boolean {
  return window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function sameKey(subscription: PushSubscription, key: string): boolean {
  const used = subscription.options.applicationServerKey;
  if (used === null) return false;
  const ours = keyBytes(key);
  const theirs = new Uint8Array(used);
  return theirs.length === ours.length && theirs.every((byte, i) => byte === ours[i]);
}

async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration("/");
  return registration === undefined ? null : registration.pushManager.getSubscription();
}

/** The project a click on an alert asked for, when it opened this page. */
function projectFromFragment(): string | null {
  const match = /(?:^|&)project=([^&]+)/.exec(location.hash.slice(1));
  if (match === null) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

export class PushOptIn {
  readonly button = h("button", { type: "button", class: "secondary push-opt-in", hidden: true, onclick: () => void this.toggle() }) as HTMLButtonElement;
  private key: string | null = null;
  private state: PushState = "unsupported";
  private wanted: string | null = projectFromFragment();

  constructor(
    private readonly request: RequestSend,
    private readonly problem: (message: string) => void,
    private readonly openProject: (projectId: string) => void,
  ) {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", (event: MessageEvent) => {
        const data = event.data as { type?: string; project?: unknown } | null;
        if (data?.type === "switchboard.open_project" && typeof data.project === "string") this.openProject(data.project);
      });
    }
  }

  /** The project an alert's click opened this page for (once). */
  takeWanted(): string | null {
    const wanted = this.wanted;
    this.wanted = null;
    return wanted;
  }

  /** Connected (again): whether the server offers Web Push, with which key, and whether
   *  this token may opt in. A subscription this browser holds is sent again (the server
   *  replaces it): a server that lost it has it back. */
  async connected(key: string | null, mayOptIn: boolean): Promise<void> {
    this.key = key;
    if (!supported() || key === null || !mayOptIn) return this.show("unsupported");
    try {
      const subscription = await currentSubscription();
      if (subscription === null) return this.show(Notification.permission === "denied" ? "blocked" : "off");
      if (!sameKey(subscription, key)) {
        await subscription.unsubscribe(); // the server has a new key: subscribe anew
        return this.show("off");
      }
      await this.send(subscription);
      this.show("on");
    } catch (error) {
      this.show("off");
      this.problem(`Push alerts: ${String(error)}`);
    }
  }

  private async toggle(): Promise<void> {
    if (this.state === "on") await this.turnOff();
    else if (this.state === "off") await this.turnOn();
  }

  private async turnOn(): Promise<void> {
    const key = this.key;
    if (key === null) return;
    this.show("busy");
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") return this.show(permission === "denied" ? "blocked" : "off");
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      await this.send(subscription);
      this.show("on");
    } catch (error) {
      this.show("off");
      this.problem(`Push alerts could not be turned on: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async turnOff(): Promise<void> {
    this.show("busy");
    try {
      const subscription = await currentSubscription();
      if (subscription !== null) {
        const endpoint = subscription.endpoint;
        await subscription.unsubscribe();
        await this.request("push.unsubscribe", { endpoint });
      }
      this.show("off");
    } catch (error) {
      this.show("on");
      this.problem(`Push alerts could not be turned off: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async send(subscription: PushSubscription): Promise<void> {
    const json = subscription.toJSON();
    const keys = json.keys ?? {};
    await this.request("push.subscribe", {
      subscription: { endpoint: subscription.endpoint, expirationTime: json.expirationTime ?? null, keys: { p256dh: keys.p256dh ?? "", auth: keys.auth ?? "" } },
    });
  }

  private show(state: PushState): void {
    this.state = state;
    const button = this.button;
    button.hidden = state === "unsupported";
    button.disabled = state === "busy" || state === "blocked";
    button.textContent = LABELS[state];
    button.title = TITLES[state];
    button.dataset.state = state;
    button.setAttribute("aria-pressed", String(state === "on"));
  }
}
