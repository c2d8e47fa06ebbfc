"""Channels the bot talks through, and the in-process fakes the tests and the demo run on."""
