"""The Telegram side: one module per feature, each exposing the handlers it registers."""
