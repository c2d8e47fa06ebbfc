"""Zalo Bot Platform: a thin client (`client`), a strict in-process fake (`fake`), and the
bridge (`bridge`) through which a second PTB Application runs every flow on Zalo."""

CHANNEL = "zalo"
