"""The command line (L4): ``keel NOUN VERB``, a thin translation onto the SDK.

Commands import what they need inside their bodies, so ``keel --help`` loads
Typer and nothing heavy.
"""
