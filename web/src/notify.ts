// When a confirmation arrives while the tab is hidden: a browser notification and a
// short sound. Both need the user's consent first ("Notify me"), as browsers require.
// Claude's own notifications (notify_user) become browser notifications too, unless
// the page shows them already.

import { confirmationLine } from "./notes";
import type { ConfirmationInfo, NotificationEvent } from "./wire";

export class Notifier {
  private audio: AudioContext | null = null;

  async enable(): Promise<void> {
    this.audio ??= new AudioContext();
    if ("Notification" in window && Notification.permission === "default") {
      await Notification.requestPermission();
    }
  }

  announce(confirmation: ConfirmationInfo, projectName: string): void {
    if (!document.hidden) return;
    this.beep();
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(`Switchboard: ${projectName} needs you`, { body: confirmationLine(confirmation), tag: confirmation.id });
    }
  }

  /** Claude's notification, as it arrives live; ``shownHere``: the open project's
   *  conversation shows it (then only a hidden tab is told). */
  tell(notification: NotificationEvent, projectName: string, tag: string, shownHere: boolean): void {
    if (shownHere && !document.hidden) return;
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const level = notification.level === "info" ? "" : ` (${notification.level})`;
    new Notification(`Switchboard: ${projectName}${level}`, { body: notification.message, tag });
  }

  private beep(): void {
    const audio = this.audio;
    if (audio === null) return;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  }
}
