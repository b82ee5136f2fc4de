"""Telling people who are away: Web Push to the browsers that opted in, and a webhook
or ntfy URL (``--notify-url``), for confirmations, questions and runs' ends, when no
client has shown the project recently.

- :mod:`.service`: the hub's part, built from :class:`~.service.NotifySettings`;
- :mod:`.alerts`: what raises an alert, and the presence rule; :mod:`.alert_texts`:
  what it says; :mod:`.presence`: which projects clients show;
- :mod:`.subscriptions`: the browsers' subscriptions, capped; :mod:`.endpoints`: which
  endpoints the server will call;
- :mod:`.vapid`: the server's VAPID key in the data dir;
- :mod:`.web_push` and :mod:`.webhook`: the senders, off the event loop through
  :mod:`.delivery`.
"""
