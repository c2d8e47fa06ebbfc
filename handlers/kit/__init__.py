"""The floor under the features: replies, the typed-answer router, scope, menus, days.

Features import the kit (and bot/, storage/), never each other; the kit imports no feature.
"""
