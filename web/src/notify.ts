// When a confirmation arrives while the tab is hidden: a browser notification and a
// short sound. Both need the user's consent first ("Notify me"), as browsers require.

import { confirmationLine } from "./notes";
import type { ConfirmationInfo } from "./wire";

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
