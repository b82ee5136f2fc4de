"""Pure protocol code: wire models, codecs and state machines. No I/O lives here."""
