"""``switchboard agent``: the program on a remote machine that links it to a hub."""
